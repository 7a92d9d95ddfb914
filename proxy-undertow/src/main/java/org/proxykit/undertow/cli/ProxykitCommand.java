package org.proxykit.undertow.cli;

import java.io.PrintWriter;
import org.proxykit.undertow.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code proxykit}: the top command; the work is in its subcommands.
 *
 * @since 0.1
 */
@Command(name = "proxykit", mixinStandardHelpOptions = true, versionProvider = ProxykitCommand.Version.class,
    description = "HTTP proxying toolkit and server: exact proxy, forward proxy, reverse proxy with signed headers.",
    subcommands = {ServeCommand.class, CheckCommand.class, DemoCommand.class, KeygenCommand.class,
        CommandLine.HelpCommand.class})
public final class ProxykitCommand implements Runnable {
  /** Exit status for a bad command line or configuration. */
  static final int USAGE = 2;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  /** Returns the command line, with proxykit's error handling: config errors print one line and exit 2. */
  public static CommandLine commandLine() {
    CommandLine commandLine = new CommandLine(new ProxykitCommand()).setCaseInsensitiveEnumValuesAllowed(true);
    commandLine.setExecutionExceptionHandler((e, cmd, parsed) -> {
      PrintWriter err = cmd.getErr();
      if (e instanceof ConfigException) {
        err.println("proxykit: " + e.getMessage());
        return USAGE;
      }
      err.println("proxykit: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
      LoggerFactory.getLogger(ProxykitCommand.class).debug("failed", e);
      return 1;
    });
    return commandLine;
  }

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** The {@code --log-level} option every subcommand shares. */
  static final class LogLevel {
    /** The levels, lower case as typed. */
    enum Level { error, warn, info, debug, trace }

    @Option(names = "--log-level", paramLabel = "LEVEL",
        description = "error, warn, info (default), debug or trace")
    void set(Level level) {
      try {
        Logger root = LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
        if (root instanceof ch.qos.logback.classic.Logger) {
          ((ch.qos.logback.classic.Logger) root).setLevel(ch.qos.logback.classic.Level.toLevel(level.name()));
        }
      } catch (NoClassDefFoundError noLogback) {
        // embedded without Logback: the application's own logging configuration decides
      }
    }
  }

  /** Reads the version from the jar's manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = ProxykitCommand.class.getPackage().getImplementationVersion();
      return new String[] {"proxykit " + (version == null ? "(development build)" : version),
          "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")"};
    }
  }
}
