package org.proxykit.undertow.cli;

import sun.misc.Signal;

/**
 * Turns SIGTERM and SIGINT into a call, so that the command can drain and exit 0 rather than
 * let the JVM die with 143. Where the JVM does not offer signal handling, the shutdown hook
 * still drains.
 */
final class Signals {
  private Signals() {}

  static void onTerminate(Runnable action) {
    for (String name : new String[] {"TERM", "INT"}) {
      try {
        Signal.handle(new Signal(name), signal -> action.run());
      } catch (IllegalArgumentException | UnsupportedOperationException unavailable) {
        // the shutdown hook covers this signal
      }
    }
  }
}
