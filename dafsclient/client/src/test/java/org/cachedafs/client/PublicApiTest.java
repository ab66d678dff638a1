package org.cachedafs.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.WildcardType;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The public API speaks in domain values, never in wire records: a change to the encoding of a reply
 * must not become a change to what applications compile against.
 */
class PublicApiTest {
  private static final Set<String> WIRE = Set.of("Requests", "Replies", "Codec", "Frame", "FrameHeader", "FrameKind", "Body",
      "WireReader", "WireWriter", "Handshake", "Opcode", "RegionDescriptor", "Limits", "BodyDecoder", "MalformedFrameException");

  @Test
  void noWireTypeInTheSessionOrClientSignatures() {
    List<String> found = new ArrayList<>();
    for (Class<?> api : List.of(DafsSession.class, DafsClient.class)) {
      for (Method m : api.getMethods()) {
        if (!Modifier.isPublic(m.getModifiers())) {
          continue;
        }
        check(m.getGenericReturnType(), api.getSimpleName() + "." + m.getName(), found);
        for (Type p : m.getGenericParameterTypes()) {
          check(p, api.getSimpleName() + "." + m.getName(), found);
        }
      }
    }
    assertEquals(List.of(), found);
  }

  private static void check(Type t, String where, List<String> found) {
    if (t instanceof Class<?> c) {
      while (c.isArray()) {
        c = c.getComponentType();
      }
      Class<?> outer = c;
      while (outer.getEnclosingClass() != null) {
        outer = outer.getEnclosingClass();
      }
      if (outer.getPackageName().equals("org.cachedafs.protocol") && WIRE.contains(outer.getSimpleName())) {
        found.add(where + " uses " + c.getName());
      }
    } else if (t instanceof ParameterizedType p) {
      check(p.getRawType(), where, found);
      for (Type a : p.getActualTypeArguments()) {
        check(a, where, found);
      }
    } else if (t instanceof WildcardType w) {
      for (Type b : w.getUpperBounds()) {
        check(b, where, found);
      }
      for (Type b : w.getLowerBounds()) {
        check(b, where, found);
      }
    } else if (t instanceof GenericArrayType g) {
      check(g.getGenericComponentType(), where, found);
    }
  }
}
