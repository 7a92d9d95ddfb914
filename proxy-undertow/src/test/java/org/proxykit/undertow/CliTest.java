package org.proxykit.undertow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.proxykit.undertow.cli.ProxykitCommand;
import picocli.CommandLine;

class CliTest {
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine command = ProxykitCommand.commandLine();
    command.setOut(new PrintWriter(out, true));
    command.setErr(new PrintWriter(err, true));
    return command.execute(args);
  }

  @Test
  void checkPrintsTheListenersAndTheHandlerTree(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("ok.yaml"), "server: { listen: 127.0.0.1:8080 }\n"
        + "mounts:\n  - { path: /echo, handler: { type: echo } }\n"
        + "  - { path: /, handler: { type: exact, upstream: 'http://127.0.0.1:9000' } }\n");
    assertEquals(0, run("check", file.toString()), err.toString());
    assertEquals("listen http://127.0.0.1:8080 (http/1.1, h2)\n"
        + "mount /echo -> echo\n"
        + "mount / -> ExactProxy(httpclient5) to http://127.0.0.1:9000\n"
        + file + ": OK\n", out.toString());
  }

  @Test
  void aConfigMistakeIsOneLineOnStderrAndExitStatus2(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("bad.yaml"), "server: { listen: 127.0.0.1:8080 }\n"
        + "mounts: [ { path: /, handler: { type: ech } } ]\n");
    assertEquals(2, run("check", file.toString()));
    assertEquals("proxykit: " + file + ": mounts[0].handler.type: unknown handler type 'ech' (known: app, echo, exact, "
        + "forward, middleware, spawn, test-failing)\n", err.toString());
    assertEquals(2, run("serve", "--config", dir.resolve("missing.yaml").toString()));
    assertTrue(err.toString().endsWith("proxykit: " + dir.resolve("missing.yaml") + ": no such file\n"), err.toString());
  }

  @Test
  void checkReadsTheTlsFilesAsServeWould(@TempDir Path dir) throws Exception {
    org.proxykit.testing.TestCertificate.localhost().writePem(dir.resolve("cert.pem"), dir.resolve("key.pem"));
    org.proxykit.testing.TestCertificate.localhost().writePem(dir.resolve("other.pem"), dir.resolve("other.key"));
    Files.writeString(dir.resolve("bad.key"), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    String yaml = "server: { listen: 127.0.0.1:8443, tls: { cert: cert.pem, key: %s } }\n"
        + "mounts: [ { path: /, handler: { type: echo } } ]\n";
    Path good = Files.writeString(dir.resolve("good.yaml"), String.format(yaml, "key.pem"));
    assertEquals(0, run("check", good.toString()), err.toString());
    assertTrue(out.toString().startsWith("listen https://127.0.0.1:8443"), out.toString());

    Path garbled = Files.writeString(dir.resolve("garbled.yaml"), String.format(yaml, "bad.key"));
    assertEquals(2, run("check", garbled.toString()));
    assertTrue(err.toString().matches("proxykit: " + java.util.regex.Pattern.quote(garbled + ": server.tls.key: cannot read '"
        + dir.resolve("bad.key") + "': ") + "[^\n]+\n"), err.toString());

    Path mismatched = Files.writeString(dir.resolve("mismatched.yaml"), String.format(yaml, "other.key"));
    StringBuffer before = err.getBuffer();
    before.setLength(0);
    assertEquals(2, run("check", mismatched.toString()));
    assertEquals("proxykit: " + mismatched + ": server.tls.key: '" + dir.resolve("other.key")
        + "' is not the private key of the first certificate in '" + dir.resolve("cert.pem") + "'\n", err.toString());
  }

  @Test
  void badCommandLinesExitWith2() {
    assertEquals(2, run("serve", "--listen", "127.0.0.1:0"));
    assertTrue(err.toString().contains("Missing required argument"), err.toString());
    assertEquals(2, run("serve", "--listen", "nowhere", "--forward"));
    assertTrue(err.toString().endsWith("proxykit: --listen: expected HOST:PORT such as 127.0.0.1:8080, got 'nowhere'\n"),
        err.toString());
    assertEquals(2, run("demo", "--log-level", "loud"));
  }

  @Test
  void keygenWritesOwnerOnlySecretsAndNeverOverwrites(@TempDir Path dir) throws Exception {
    Path secret = dir.resolve("secret.key");
    assertEquals(0, run("keygen", "--hmac", secret.toString()), err.toString());
    assertTrue(out.toString().matches("wrote " + java.util.regex.Pattern.quote(secret.toString())
        + " \\(key id hmac-[0-9a-f]{16}\\)\n"), out.toString());
    assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(secret)));
    assertEquals(89, Files.size(secret), "64 random bytes as base64, and a line break");
    String first = Files.readString(secret);
    assertEquals(2, run("keygen", "--hmac", secret.toString()));
    assertTrue(err.toString().endsWith(secret + ": exists already; proxykit keygen never overwrites a key\n"), err.toString());
    assertEquals(first, Files.readString(secret));

    assertEquals(0, run("keygen", "--ed25519", dir.resolve("app").toString()), err.toString());
    assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
        Files.getPosixFilePermissions(dir.resolve("app.key"))));
    assertTrue(Files.readString(dir.resolve("app.pub")).startsWith("-----BEGIN PUBLIC KEY-----"));
  }

  @Test
  void hrefQuickFormUsesTheApp(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("app.yaml"), "server: { listen: 127.0.0.1:8080 }\n"
        + "mounts: [ { path: /, handler: { type: app, href: 'http://127.0.0.1:9000/base' } } ]\n");
    assertEquals(0, run("check", file.toString()), err.toString());
    assertTrue(out.toString().contains("mount / -> ProxyApp(http://127.0.0.1:9000/base) -> ExactProxy(httpclient5)"),
        out.toString());
  }

  @Test
  void versionAndHelp() {
    assertEquals(0, run("--version"));
    assertTrue(out.toString().startsWith("proxykit "), out.toString());
    assertEquals(0, run("--help"));
    assertTrue(out.toString().contains("serve"));
    assertTrue(out.toString().contains("demo"));
  }
}
