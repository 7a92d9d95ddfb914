package org.proxykit.undertow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigTest {
  private static final String LISTEN = "server: { listen: 127.0.0.1:0 }\n";
  private static final String ECHO = "mounts: [ { path: /, handler: { type: echo } } ]\n";

  @Test
  void aFullConfigReadsEveryKey(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("cert.pem"), "x");
    Files.writeString(dir.resolve("key.pem"), "x");
    Path file = Files.writeString(dir.resolve("proxykit.yaml"), "server:\n"
        + "  listen: [127.0.0.1:8080, '[::1]:8443']\n"
        + "  http2: false\n"
        + "  tls: { cert: cert.pem, key: key.pem }\n"
        + "  limits: { maxRequestLine: 4KiB, maxHeaderSize: 8KiB, maxHeaders: 50, maxBodySize: 10MiB, headerTimeout: 5s,\n"
        + "            idleTimeout: 2m, bodyTimeout: 20s }\n"
        + "  workerThreads: 16\n"
        + "  shutdownGrace: 500ms\n"
        + "  accessLog: off\n"
        + "mounts:\n"
        + "  - path: /echo\n"
        + "    handler: { type: echo }\n"
        + "  - path: /\n"
        + "    handler: { type: exact, connectTimeout: 2s }\n");
    ProxykitConfig config = ProxykitConfig.load(file);
    assertEquals(List.of(new ProxykitConfig.Listener("127.0.0.1", 8080), new ProxykitConfig.Listener("::1", 8443)),
        config.listeners());
    assertEquals(false, config.http2());
    assertEquals(dir.resolve("cert.pem"), config.tls().cert());
    assertEquals(new ProxykitConfig.Limits(4096, 8192, 50, 10L << 20, Duration.ofSeconds(5), Duration.ofMinutes(2),
        Duration.ofSeconds(20)),
        config.limits());
    assertEquals(16, config.workerThreads());
    assertEquals(Duration.ofMillis(500), config.shutdownGrace());
    assertEquals("off", config.accessLog());
    assertEquals("/echo", config.mounts().get(0).path());
    assertEquals("mounts[1].handler", config.mounts().get(1).handler().path());
  }

  @Test
  void accessLogOnMeansStdoutAndAFileIsFoundFromTheConfigsFolder(@TempDir Path dir) throws Exception {
    assertEquals("stdout", ProxykitConfig.parse("server: { listen: a:1, accessLog: on }\n" + ECHO, "t.yaml", dir).accessLog());
    assertEquals(dir.resolve("logs/access.log").toString(),
        ProxykitConfig.parse("server: { listen: a:1, accessLog: logs/access.log }\n" + ECHO, "t.yaml", dir).accessLog());
  }

  @Test
  void defaultsAreSafe() {
    ProxykitConfig config = ProxykitConfig.parse(LISTEN + ECHO, "t.yaml", Path.of("."));
    assertEquals(ProxykitConfig.Limits.DEFAULTS, config.limits());
    assertEquals(8192, config.limits().maxRequestLine(), "nginx's large_client_header_buffers buffer");
    assertEquals(true, config.http2());
    assertNull(config.tls());
    assertEquals("stdout", config.accessLog());
    assertEquals(Duration.ofSeconds(30), config.shutdownGrace());
  }

  @ParameterizedTest(name = "{1}")
  @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
      "\"server: [\"                                           | t.yaml:1:10: not valid YAML: while parsing a flow node, expected the node content, but found '<stream end>'",
      "\"- a\"                                                 | t.yaml: expected a map with 'server' and 'mounts'",
      "\"serve: {}\"                                           | t.yaml: serve: unknown key (known: mounts, server)",
      "\"server: { listen: 1.2.3.4:1, port: 80 }\"             | t.yaml: server.port: unknown key (known: accessLog, http2, limits, listen, shutdownGrace, tls, workerThreads)",
      "\"server: {}\"                                          | t.yaml: server.listen: at least one HOST:PORT is needed",
      "\"server: { listen: localhost }\"                       | t.yaml: server.listen: expected HOST:PORT such as 127.0.0.1:8080, got 'localhost'",
      "\"server: { listen: [a:1, 'b:99999'] }\"                | t.yaml: server.listen[1]: expected HOST:PORT such as 127.0.0.1:8080, got 'b:99999'",
      "\"server: { listen: a:1, http2: maybe }\"               | t.yaml: server.http2: expected true or false, got 'maybe'",
      "\"server: { listen: a:1, shutdownGrace: 30 }\"          | t.yaml: server.shutdownGrace: expected a duration such as 500ms, 30s, 5m or PT1M, got 30",
      "\"server: { listen: a:1, workerThreads: 0 }\"           | t.yaml: server.workerThreads: must be at least 1, got 0",
      "\"server: { listen: a:1, limits: { maxBodySize: lots } }\" | t.yaml: server.limits.maxBodySize: expected a size such as 16KiB, 10MiB or 1GiB, got 'lots'",
      "\"server: { listen: a:1, limits: { maxBodySize: -2 } }\" | t.yaml: server.limits.maxBodySize: must be more than 0, or -1 for no limit, got -2",
      "\"server: { listen: a:1, limits: { maxBodySize: 0 } }\" | t.yaml: server.limits.maxBodySize: must be more than 0, or -1 for no limit, got 0",
      "\"server: { listen: a:1, limits: { maxBodySize: -1KiB } }\" | t.yaml: server.limits.maxBodySize: expected a size such as 16KiB, 10MiB or 1GiB, got '-1KiB'",
      "\"server: { listen: a:1, limits: { maxHeader: 1 } }\"   | t.yaml: server.limits.maxHeader: unknown key (known: bodyMinRate, bodyTimeout, headerTimeout, idleTimeout, maxBodySize, maxHeaderSize, maxHeaders, maxRequestLine)",
      "\"server: { listen: a:1, limits: { maxRequestLine: 0 } }\" | t.yaml: server.limits.maxRequestLine: must be more than 0",
      "\"server: { listen: a:1, limits: { maxRequestLine: -1 } }\" | t.yaml: server.limits.maxRequestLine: expected a size such as 16KiB, 10MiB or 1GiB, got -1",
      "\"server: { listen: a:1, limits: { maxRequestLine: 2GiB } }\" | t.yaml: server.limits.maxRequestLine: must be at most 2147483647 bytes, got '2GiB'",
      "\"server: { listen: a:1, limits: { maxHeaderSize: 4294967296 } }\" | t.yaml: server.limits.maxHeaderSize: must be at most 2147483647 bytes, got 4294967296",
      "\"server: { listen: a:1, tls: { cert: nope.pem, key: nope.pem } }\" | t.yaml: server.tls.cert: cannot read 'nope.pem'",
      "\"server: { listen: a:1, tls: { cert: pom.xml } }\"      | t.yaml: server.tls.key: missing",
      "\"server: { listen: a:1 }\"                             | t.yaml: mounts: expected a list of {path, handler}",
      "\"server: { listen: a:1 }\nmounts: [ x ]\"              | t.yaml: mounts[0]: expected a map with 'path' and 'handler'",
      "\"server: { listen: a:1 }\nmounts: [ { handler: { type: echo } } ]\" | t.yaml: mounts[0].path: missing",
      "\"server: { listen: a:1 }\nmounts: [ { path: app, handler: { type: echo } } ]\" | t.yaml: mounts[0].path: expected / or a prefix such as /app (no trailing slash), got 'app'",
      "\"server: { listen: a:1 }\nmounts: [ { path: /app/, handler: { type: echo } } ]\" | t.yaml: mounts[0].path: expected / or a prefix such as /app (no trailing slash), got '/app/'",
      "\"server: { listen: a:1 }\nmounts: [ { path: /a/../b, handler: { type: echo } } ]\" | t.yaml: mounts[0].path: must not have . or .. segments, got '/a/../b'",
      "\"server: { listen: a:1 }\nmounts: [ { path: /, handler: { type: echo } }, { path: /a/., handler: { type: echo } } ]\" | t.yaml: mounts[1].path: must not have . or .. segments, got '/a/.'",
      "\"server: { listen: a:1 }\nmounts: [ { path: /./a, handler: { type: echo } } ]\" | t.yaml: mounts[0].path: must not have . or .. segments, got '/./a'",
      "\"server: { listen: a:1 }\nmounts: [ { path: /.., handler: { type: echo } } ]\" | t.yaml: mounts[0].path: must not have . or .. segments, got '/..'",
      "\"server: { listen: a:1 }\nmounts: [ { path: '/a/%2e%2E', handler: { type: echo } } ]\" | t.yaml: mounts[0].path: must not have . or .. segments, got '/a/%2e%2E'",
      "\"server: { listen: a:1 }\nmounts: [ { path: '/a/..;x', handler: { type: echo } } ]\" | t.yaml: mounts[0].path: must not have . or .. segments, got '/a/..;x'",
      "\"server: { listen: a:1 }\nmounts: [ { path: //a, handler: { type: echo } } ]\" | t.yaml: mounts[0].path: must not contain //, got '//a'",
      "\"server: { listen: a:1 }\nmounts: [ { path: /a//b, handler: { type: echo } } ]\" | t.yaml: mounts[0].path: must not contain //, got '/a//b'",
      "\"server: { listen: a:1 }\nmounts: [ { path: a/b, handler: { type: echo } } ]\" | t.yaml: mounts[0].path: expected / or a prefix such as /app (no trailing slash), got 'a/b'",
      "\"server: { listen: a:1 }\nmounts: [ { path: /a, handler: { type: echo } }, { path: /a, handler: { type: echo } } ]\" | t.yaml: mounts[1].path: '/a' is mounted twice",
      "\"server: { listen: a:1 }\nmounts: [ { path: /a, handler: echo } ]\" | t.yaml: mounts[0].handler: expected a map with a 'type'",
      "\"server: { listen: a:1 }\nmounts: [ { path: /a, handler: { type: echo }, extra: 1 } ]\" | t.yaml: mounts[0].extra: unknown key (known: handler, path)",
      "\"server: { listen: a:1, listen: b:2 }\"                | t.yaml:1:30: not valid YAML: Duplicate field 'listen'",
      "\"server: { listen: a:1, limits: { idleTimeout: 25d } }\" | t.yaml: server.limits.idleTimeout: must be at most 2147483647ms (24.8 days), got '25d'",
      "\"server: { listen: a:1, limits: { headerTimeout: 2147483648ms } }\" | t.yaml: server.limits.headerTimeout: must be at most 2147483647ms (24.8 days), got '2147483648ms'",
      "\"server: { listen: a:1, limits: { bodyTimeout: P30D } }\" | t.yaml: server.limits.bodyTimeout: must be at most 2147483647ms (24.8 days), got 'P30D'",
      "\"server: { listen: a:1, shutdownGrace: 999999999999999d }\" | t.yaml: server.shutdownGrace: must be at most 2147483647ms (24.8 days), got '999999999999999d'",
  })
  void configMistakesAreOneLineNamingTheFileAndKey(String yaml, String message) {
    ConfigException e = assertThrows(ConfigException.class, () -> ProxykitConfig.parse(yaml, "t.yaml", Path.of(".")));
    assertEquals(message, e.getMessage());
  }

  @ParameterizedTest(name = "{1}")
  @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
      "\"{ port: 1 }\"                              | t.yaml: mounts[0].handler.type: missing (known: app, echo, exact, forward, middleware, spawn, test-failing)",
      "\"{ type: ech }\"                            | t.yaml: mounts[0].handler.type: unknown handler type 'ech' (known: app, echo, exact, forward, middleware, spawn, test-failing)",
      "\"{ type: echo, x: 1 }\"                     | t.yaml: mounts[0].handler.x: unknown key (known: )",
      "\"{ type: exact, transport: netty }\"        | t.yaml: mounts[0].handler.transport: no TransportProvider named 'netty'; available: httpclient5, jdk",
      "\"{ type: exact, conectTimeout: 1s }\"       | t.yaml: mounts[0].handler.conectTimeout: unknown key (known: connectTimeout, idleTimeout, maxConnections, maxConnectionsPerRoute, poolWaitTimeout, responseTimeout, sslContext, trustStore, trustStorePassword)",
      "\"{ type: exact, responseTimeout: soon }\"   | t.yaml: mounts[0].handler.responseTimeout: expected a duration such as 500ms, 30s, 5m or PT1M, got 'soon'",
      "\"{ type: exact, upstream: 'ftp://x' }\"     | t.yaml: mounts[0].handler.upstream: URL 'ftp://x' has scheme 'ftp': only http and https are supported",
      "\"{ type: exact, upstream: 'http://x/base' }\" | t.yaml: mounts[0].handler.upstream: expected scheme://host:port without path or query, got 'http://x/base'",
      "\"{ type: forward, connectPorts: [443, x] }\" | t.yaml: mounts[0].handler.connectPorts[1]: expected a port, got 'x'",
      "\"{ type: forward, destinations: { allow: [127.0.0.1/32, localhost] } }\" | t.yaml: mounts[0].handler.destinations.allow[1]: expected an IP address or CIDR range such as 10.0.0.0/8, got 'localhost'",
      "\"{ type: forward, destinations: { deny: [10.0.0.0/33] } }\" | t.yaml: mounts[0].handler.destinations.deny[0]: expected an IP address or CIDR range such as 10.0.0.0/8, got '10.0.0.0/33'",
      "\"{ type: forward, destinations: { permit: [] } }\" | t.yaml: mounts[0].handler.destinations.permit: unknown key (known: allow, deny)",
      "\"{ type: app }\"                             | t.yaml: mounts[0].handler.href: missing",
      "\"{ type: app, href: 'nope' }\"               | t.yaml: mounts[0].handler.href: URL 'nope' is not absolute: it needs http:// or https://",
      "\"{ type: app, href: 'http://x', keys: { pickle: [a] } }\" | t.yaml: mounts[0].handler.keys.pickle: no attribute kind 'pickle' (known: Json, Kryo, Str, Unicode)",
      "\"{ type: app, href: 'http://x', signing: {} }\" | t.yaml: mounts[0].handler.signing: set one of hmacSecretFile and ed25519PrivateKeyFile",
      "\"{ type: app, href: 'http://x', signing: { hmacSecretFile: missing.key } }\" | t.yaml: mounts[0].handler.signing.hmacSecretFile: ./missing.key: cannot read the shared secret: no such file",
      "\"{ type: app, href: 'http://x', codecs: { Kryo: { classes: [no.Such] } } }\" | t.yaml: mounts[0].handler.codecs.Kryo.classes[0]: no class 'no.Such'",
      "\"{ type: middleware }\"                      | t.yaml: mounts[0].handler.next: missing (the handler to wrap)",
      "\"{ type: middleware, next: { type: echo }, trust: { ip: [] } }\" | t.yaml: mounts[0].handler.trust.ip: unknown key (known: ed25519PublicKeyFile, hmacSecretFile, ips, maxAge, requireSignature, skew)",
      "\"{ type: middleware, next: { type: echo }, trust: { ips: [10.0.0.0/8, nope] } }\" | t.yaml: mounts[0].handler.trust.ips[1]: expected an IP address or CIDR range such as 10.0.0.0/8, got 'nope'",
      "\"{ type: middleware, next: { type: echo }, prefix: /a, popPrefix: /b }\" | t.yaml: mounts[0].handler: prefix and popPrefix cannot be combined",
      "\"{ type: middleware, next: { type: echo }, host: example.com }\" | t.yaml: mounts[0].handler: host must include a port (host:port), got 'example.com'",
      "\"{ type: middleware, next: { type: echo }, host: 'a:1', port: 2 }\" | t.yaml: mounts[0].handler: host cannot be combined with domain or port",
      "\"{ type: spawn }\"                           | t.yaml: mounts[0].handler.command: missing (the program and its arguments)",
      "\"{ type: spawn, command: [x], idleShutdown: soon }\" | t.yaml: mounts[0].handler.idleShutdown: expected a duration such as 500ms, 30s, 5m or PT1M, got 'soon'",
      "\"{ type: spawn, command: [x], readinessPath: health }\" | t.yaml: mounts[0].handler: readiness path must start with /, got 'health'",
      "\"{ type: spawn, command: [x], port: 70000 }\" | t.yaml: mounts[0].handler: port: must be 1-65535, got 70000",
      "\"{ type: middleware, next: { type: ech } }\" | t.yaml: mounts[0].handler.next.type: unknown handler type 'ech' (known: app, echo, exact, forward, middleware, spawn, test-failing)",
      "\"{ type: forward, tunnelIdleTimeout: 30d }\"  | t.yaml: mounts[0].handler.tunnelIdleTimeout: must be at most 2147483647ms (24.8 days), got '30d'",
      "\"{ type: forward, connectTimeout: 0s }\"      | t.yaml: mounts[0].handler.connectTimeout: must be more than 0",
      "\"{ type: exact, responseTimeout: 25d }\"      | t.yaml: mounts[0].handler.responseTimeout: must be at most 2147483647ms (24.8 days), got '25d'",
      "\"{ type: app, href: 'http://x', idleTimeout: 600h }\" | t.yaml: mounts[0].handler.idleTimeout: must be at most 2147483647ms (24.8 days), got '600h'",
      "\"{ type: spawn, command: [x], idleShutdown: 100d }\" | t.yaml: mounts[0].handler.idleShutdown: must be at most 2147483647ms (24.8 days), got '100d'",
      "\"{ type: middleware, next: { type: echo }, trust: { maxAge: 9999999999999999d } }\" | t.yaml: mounts[0].handler.trust.maxAge: must be at most 2147483647ms (24.8 days), got '9999999999999999d'",
  })
  void handlerMistakesAreOneLineNamingTheFileAndKey(String handler, String message) {
    ProxykitConfig config = ProxykitConfig.parse(LISTEN + "mounts: [ { path: /, handler: " + handler + " } ]\n",
        "t.yaml", Path.of("."));
    ConfigException e = assertThrows(ConfigException.class, () -> Proxykit.server(config));
    assertEquals(message, e.getMessage());
  }

  @Test
  void tlsFilesAreReadWhenTheServerIsMadeNotWhenItStarts(@TempDir Path dir) throws Exception {
    org.proxykit.testing.TestCertificate.localhost().writePem(dir.resolve("cert.pem"), dir.resolve("key.pem"));
    Files.writeString(dir.resolve("junk.pem"), "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n");
    Files.writeString(dir.resolve("empty.pem"), "no PEM here\n");
    String tls = "server: { listen: 127.0.0.1:0, tls: { cert: %s, key: %s } }\n" + ECHO;

    Proxykit.server(ProxykitConfig.parse(String.format(tls, "cert.pem", "key.pem"), "t.yaml", dir)).close();
    assertEquals("t.yaml: server.tls.cert: cannot read '" + dir.resolve("junk.pem") + "': "
        + "not valid PEM: bad base64",
        assertThrows(ConfigException.class, () -> Proxykit.server(
            ProxykitConfig.parse(String.format(tls, "junk.pem", "key.pem"), "t.yaml", dir))).getMessage());
    assertEquals("t.yaml: server.tls.key: no unencrypted PRIVATE KEY in '" + dir.resolve("empty.pem") + "'",
        assertThrows(ConfigException.class, () -> Proxykit.server(
            ProxykitConfig.parse(String.format(tls, "cert.pem", "empty.pem"), "t.yaml", dir))).getMessage());
    ProxykitConfig goneLater = ProxykitConfig.parse(String.format(tls, "cert.pem", "key.pem"), "t.yaml", dir);
    Files.delete(dir.resolve("key.pem"));
    assertEquals("t.yaml: server.tls.key: cannot read '" + dir.resolve("key.pem") + "': no such file",
        assertThrows(ConfigException.class, () -> Proxykit.server(goneLater)).getMessage());
  }

  @Test
  void aKeyThatIsNotTheCertificatesIsRefusedBeforeAnyHandshake(@TempDir Path dir) throws Exception {
    org.proxykit.testing.TestCertificate.localhost().writePem(dir.resolve("cert.pem"), dir.resolve("key.pem"));
    org.proxykit.testing.TestCertificate.localhost().writePem(dir.resolve("other-cert.pem"), dir.resolve("other-key.pem"));
    ProxykitConfig mismatched = ProxykitConfig.parse("server: { listen: 127.0.0.1:0, tls: { cert: cert.pem, key: other-key.pem } }\n"
        + ECHO, "t.yaml", dir);
    assertEquals("t.yaml: server.tls.key: '" + dir.resolve("other-key.pem") + "' is not the private key of the first "
        + "certificate in '" + dir.resolve("cert.pem") + "'",
        assertThrows(ConfigException.class, () -> Proxykit.server(mismatched)).getMessage());
  }

  @Test
  void rsaKeysAreMatchedByModulusAndKeyTypesMustAgree() throws Exception {
    java.security.KeyPairGenerator rsa = java.security.KeyPairGenerator.getInstance("RSA");
    rsa.initialize(2048);
    java.security.KeyPair one = rsa.generateKeyPair();
    java.security.KeyPair two = rsa.generateKeyPair();
    java.security.KeyPairGenerator ec = java.security.KeyPairGenerator.getInstance("EC");
    java.security.KeyPair three = ec.generateKeyPair();
    assertEquals(true, PemTls.matches(one.getPrivate(), one.getPublic()));
    assertEquals(false, PemTls.matches(one.getPrivate(), two.getPublic()));
    assertEquals(false, PemTls.matches(one.getPrivate(), three.getPublic()));
    assertEquals(false, PemTls.matches(three.getPrivate(), one.getPublic()));
    assertEquals(true, PemTls.matches(three.getPrivate(), three.getPublic()));
  }

  @Test
  void timeoutsUpToWhatAnIntOfMillisecondsHoldsAreTakenAndAFractionOfAMillisecondIsOne() {
    ProxykitConfig config = ProxykitConfig.parse("server: { listen: a:1, shutdownGrace: 24d, limits: { headerTimeout: PT0.0001S, "
        + "idleTimeout: 2147483647ms } }\n" + ECHO, "t.yaml", Path.of("."));
    assertEquals(Duration.ofDays(24), config.shutdownGrace());
    assertEquals(Duration.ofMillis(1), config.limits().headerTimeout());
    assertEquals(Integer.MAX_VALUE, Durations.millis(config.limits().idleTimeout()));
  }

  @Test
  void aConfigMadeInCodeIsCheckedToo() {
    ProxykitConfig.Limits tooLong = new ProxykitConfig.Limits(16384, 100, -1, Duration.ofSeconds(30),
        Duration.ofDays(30), Duration.ofSeconds(60));
    ConfigException e = assertThrows(ConfigException.class, () -> new ProxykitConfig("embedded",
        List.of(new ProxykitConfig.Listener("127.0.0.1", 0)), true, null, tooLong, 8, Duration.ofSeconds(1), "off",
        List.of(), Path.of(".")));
    assertEquals("embedded: server.limits.idleTimeout: must be more than 0 and at most 2147483647ms (24.8 days), got PT720H",
        e.getMessage());
  }

  @Test
  void aRequestLineLimitMadeInCodeIsCheckedAndOlderCodeGetsTheDefault() {
    ProxykitConfig.Limits none = new ProxykitConfig.Limits(0, 16384, 100, -1, Duration.ofSeconds(30),
        Duration.ofSeconds(60), Duration.ofSeconds(60));
    ConfigException e = assertThrows(ConfigException.class, () -> new ProxykitConfig("embedded",
        List.of(new ProxykitConfig.Listener("127.0.0.1", 0)), true, null, none, 8, Duration.ofSeconds(1), "off",
        List.of(), Path.of(".")));
    assertEquals("embedded: server.limits.maxRequestLine: must be more than 0 and at most 2147483647 bytes, got 0",
        e.getMessage());
    assertEquals(8192, new ProxykitConfig.Limits(16384, 100, -1, Duration.ofSeconds(30), Duration.ofSeconds(60),
        Duration.ofSeconds(60)).maxRequestLine());
  }

  @Test
  void mountPathsWithDotsThatAreNotWholeSegmentsAreFine() {
    ProxykitConfig config = ProxykitConfig.parse(LISTEN + "mounts: [ { path: /a.b/..c/.well-known, handler: { type: echo } } ]\n",
        "t.yaml", Path.of("."));
    assertEquals("/a.b/..c/.well-known", config.mounts().get(0).path());
  }

  @Test
  void aMissingFileIsOneLine(@TempDir Path dir) {
    Path missing = dir.resolve("missing.yaml");
    assertEquals(missing + ": no such file",
        assertThrows(ConfigException.class, () -> ProxykitConfig.load(missing)).getMessage());
  }

  @Test
  void anUnwritableAccessLogIsOneLine(@TempDir Path dir) {
    String log = dir.resolve("no/such/dir/access.log").toString();
    ProxykitConfig config = ProxykitConfig.parse("server: { listen: a:1, accessLog: '" + log + "' }\n" + ECHO,
        "t.yaml", Path.of("."));
    ConfigException e = assertThrows(ConfigException.class, () -> Proxykit.server(config));
    assertEquals("t.yaml: server.accessLog: cannot open '" + log + "': " + log + " (No such file or directory)",
        e.getMessage());
  }
}
