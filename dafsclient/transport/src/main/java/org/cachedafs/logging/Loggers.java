package org.cachedafs.logging;

import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.helpers.NOPLogger;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * Where this project's classes get their loggers: SLF4J's, when the application has an SLF4J provider
 * (a binding: slf4j-simple, logback-classic, slf4j-jdk14, ...) on its class path, else a logger that
 * drops everything.
 *
 * <p>Why not {@link LoggerFactory} directly: SLF4J 2, finding no provider, prints "SLF4J(W): No SLF4J
 * providers were found", and two lines more, to the standard error of every application that opens a
 * dafs file system without a logging set-up of its own, and then drops every event anyway. A library
 * must not choose the binding (docs/dependencies.md), so instead this asks SLF4J's own question first,
 * the way SLF4J asks it (the {@code slf4j.provider} system property, then the service loader on SLF4J's
 * class loader), and calls LoggerFactory only if the answer is yes. With a binding, logging is exactly
 * what it was; without one, nothing is printed, which is what SLF4J would have done after its warning.
 * docs/operations.md says how an application binds one.
 *
 * <p>A class path with an SLF4J 1.7 binding and no provider still goes to LoggerFactory, so that its
 * warning says why that binding is ignored; so does a provider that cannot be loaded.
 */
public final class Loggers {
  private Loggers() {}

  /** The logger for {@code owner}: SLF4J's if the application binds SLF4J, else one that drops everything. */
  public static Logger get(Class<?> owner) {
    return Binding.PRESENT ? LoggerFactory.getLogger(owner) : NOPLogger.NOP_LOGGER;
  }

  /** Decided once, at the first logger (a class path does not gain a binding later). */
  private static final class Binding {
    static final boolean PRESENT = present();

    private static boolean present() {
      if (System.getProperty("slf4j.provider") != null) {
        return true; // SLF4J loads the one named, or says why it cannot
      }
      ClassLoader loader = LoggerFactory.class.getClassLoader();
      try {
        if (ServiceLoader.load(SLF4JServiceProvider.class, loader).iterator().hasNext()) {
          return true;
        }
      } catch (ServiceConfigurationError e) {
        return true; // a broken provider: SLF4J reports it
      }
      String legacyBinding = "org/slf4j/impl/StaticLoggerBinder.class";
      return (loader == null ? ClassLoader.getSystemResource(legacyBinding) : loader.getResource(legacyBinding)) != null;
    }
  }
}
