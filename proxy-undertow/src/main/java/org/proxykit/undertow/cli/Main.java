package org.proxykit.undertow.cli;

import picocli.CommandLine;

/**
 * The entry point of the runnable jar: {@code java -jar proxy-undertow-VERSION-cli.jar ...},
 * or {@code ./proxykit ...} from the repository.
 *
 * @since 0.1
 */
public final class Main {
  private Main() {}

  /** Runs the {@code proxykit} command and exits with its status: 0 done, 1 failed, 2 bad usage or config. */
  public static void main(String[] args) {
    if (System.getProperty("logback.configurationFile") == null) {
      System.setProperty("logback.configurationFile", "org/proxykit/undertow/cli/logback.xml");
    }
    System.exit(ProxykitCommand.commandLine().execute(args));
  }
}
