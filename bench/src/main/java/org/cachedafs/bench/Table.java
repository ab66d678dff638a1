package org.cachedafs.bench;

import java.util.ArrayList;
import java.util.List;

/** A table of text cells, rendered for the console (aligned columns) or as Markdown or HTML. */
final class Table {
  private final List<String> header;
  private final List<List<String>> rows = new ArrayList<>();

  Table(String... header) {
    this.header = List.of(header);
  }

  Table row(Object... cells) {
    List<String> r = new ArrayList<>();
    for (Object c : cells) {
      r.add(String.valueOf(c));
    }
    rows.add(r);
    return this;
  }

  boolean isEmpty() {
    return rows.isEmpty();
  }

  String console() {
    int[] w = new int[header.size()];
    for (int i = 0; i < w.length; i++) {
      w[i] = header.get(i).length();
      for (List<String> r : rows) {
        w[i] = Math.max(w[i], r.get(i).length());
      }
    }
    StringBuilder b = new StringBuilder();
    line(b, header, w);
    for (int i = 0; i < w.length; i++) {
      b.append(i == 0 ? "" : "  ").append("-".repeat(w[i]));
    }
    b.append('\n');
    rows.forEach(r -> line(b, r, w));
    return b.toString();
  }

  private static void line(StringBuilder b, List<String> cells, int[] w) {
    for (int i = 0; i < w.length; i++) {
      String c = cells.get(i);
      // Text left, numbers right, as a reader scans them.
      boolean number = !c.isEmpty() && (Character.isDigit(c.charAt(0)) || c.charAt(0) == '-' && c.length() > 1);
      String cell = number ? " ".repeat(w[i] - c.length()) + c : c + " ".repeat(w[i] - c.length());
      b.append(i == 0 ? "" : "  ").append(cell);
    }
    b.append('\n');
  }

  String markdown() {
    StringBuilder b = new StringBuilder();
    b.append("| ").append(String.join(" | ", header)).append(" |\n|");
    header.forEach(h -> b.append("---|"));
    b.append('\n');
    rows.forEach(r -> b.append("| ").append(String.join(" | ", r)).append(" |\n"));
    return b.toString();
  }

  String html() {
    StringBuilder b = new StringBuilder("<table>\n<tr>");
    header.forEach(h -> b.append("<th>").append(escape(h)).append("</th>"));
    b.append("</tr>\n");
    for (List<String> r : rows) {
      b.append("<tr>");
      r.forEach(c -> b.append("<td>").append(escape(c)).append("</td>"));
      b.append("</tr>\n");
    }
    return b.append("</table>\n").toString();
  }

  static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
