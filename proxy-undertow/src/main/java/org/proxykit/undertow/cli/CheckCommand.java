package org.proxykit.undertow.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.proxykit.undertow.Proxykit;
import org.proxykit.undertow.ProxykitConfig;
import org.proxykit.undertow.ProxykitServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code proxykit check FILE}: validates a configuration and prints the handler tree, starting nothing. */
@Command(name = "check", mixinStandardHelpOptions = true,
    description = "Validates a configuration file and prints its listeners and handler tree; exit 2 on a mistake.")
final class CheckCommand implements Callable<Integer> {
  @Parameters(paramLabel = "FILE", description = "YAML configuration file")
  Path file;

  @Mixin
  ProxykitCommand.LogLevel logLevel;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    ProxykitConfig config = ProxykitConfig.load(file);
    ProxykitServer server = Proxykit.server(config);
    try {
      PrintWriter out = spec.commandLine().getOut();
      out.print(server.describe());
      out.println(file + ": OK");
      out.flush();
    } finally {
      server.close();
    }
    return 0;
  }
}
