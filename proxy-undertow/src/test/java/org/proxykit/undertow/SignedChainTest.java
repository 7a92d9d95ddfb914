package org.proxykit.undertow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.proxykit.api.spi.Settings;
import org.proxykit.undertow.cli.ProxykitCommand;

/** app server -> middleware server -> echo, over real HTTP on 127.0.0.1. */
class SignedChainTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Map<String, Object> KRYO = Map.of("Kryo", Map.of("classes", List.of("java.util.ArrayList")));

  @TempDir Path dir;
  private final List<ProxykitServer> servers = new java.util.ArrayList<>();

  @AfterEach
  void stop() {
    servers.forEach(ProxykitServer::close);
  }

  private ProxykitServer start(String mountPath, Map<String, Object> handler) {
    ProxykitConfig config = new ProxykitConfig("test", List.of(new ProxykitConfig.Listener("127.0.0.1", 0)), false, null,
        ProxykitConfig.Limits.DEFAULTS, 16, Duration.ofSeconds(5), "off",
        List.of(new ProxykitConfig.Mount(mountPath, Settings.of("mounts[0].handler", handler))), dir);
    ProxykitServer server = Proxykit.server(config).start();
    servers.add(server);
    return server;
  }

  private ProxykitServer middleware(Map<String, Object> trust) {
    return start("/", Map.of("type", "middleware", "trust", trust, "codecs", KRYO, "next", Map.of("type", "echo")));
  }

  private ProxykitServer app(ProxykitServer middleware, Map<String, Object> signing, Map<String, Object> attributes) {
    Map<String, Object> app = new LinkedHashMap<>();
    app.put("type", "app");
    app.put("href", "http://127.0.0.1:" + middleware.urls().get(0).getPort() + "/base?fixed=1");
    app.put("signing", signing);
    app.put("codecs", KRYO);
    app.put("keys", Map.of("str", List.of("s-empty", "s-b64", "s-spaces", "s-crlf", "s-nul", "s-latin1"),
        "unicode", List.of("u-cjk", "u-emoji"), "json", List.of("j-large"), "kryo", List.of("k-list")));
    app.put("attributes", attributes);
    return start("/app", app);
  }

  private static Map<String, Object> edgeValues() {
    Map<String, Object> values = new LinkedHashMap<>();
    values.put("s-empty", "");
    values.put("s-b64", "b64 is not an escape here");
    values.put("s-spaces", "  leading and trailing  ");
    values.put("s-crlf", "line\r\nX-Injected: yes");
    values.put("s-nul", "nul\u0000byte");
    values.put("s-latin1", "caf\u00e9 \u00ff");
    values.put("u-cjk", "\u65e5\u672c\u8a9e \u00fcn\u00efc\u00f6d\u00e9");
    values.put("u-emoji", "\ud83d\ude80 launch");
    Map<String, Object> large = new LinkedHashMap<>();
    for (int i = 0; i < 100; i++) {
      large.put("key-" + i, List.of(i, "value \u00e9 " + i, i % 2 == 0));
    }
    values.put("j-large", large);
    values.put("k-list", new java.util.ArrayList<>(List.of("kryo", 7)));
    return values;
  }

  @Test
  void everyKindWithEdgeValuesArrivesRestoredWithTheOriginalRequest() throws Exception {
    Path secret = Files.writeString(dir.resolve("secret.key"), "a-shared-secret-for-the-chain-test-0123456789\n");
    ProxykitServer middleware = middleware(Map.of("hmacSecretFile", "secret.key"));
    ProxykitServer app = app(middleware, Map.of("hmacSecretFile", secret.toString()), edgeValues());

    HttpResponse<String> response = Servers.get(app, "/app/x/y?q=%20a");
    assertEquals(200, response.statusCode(), response.body());
    JsonNode echo = JSON.readTree(response.body());
    assertEquals("http", echo.get("scheme").asText());
    assertEquals("127.0.0.1", echo.get("serverName").asText());
    assertEquals(app.urls().get(0).getPort(), echo.get("serverPort").asInt());
    assertEquals("127.0.0.1:" + app.urls().get(0).getPort(), echo.at("/headers/Host/0").asText());
    assertEquals("/app", echo.get("scriptName").asText());
    assertEquals("/x/y", echo.get("pathInfo").asText());
    assertEquals("q=%20a", echo.get("queryString").asText());
    assertEquals("127.0.0.1", echo.get("remoteAddr").asText());
    JsonNode attributes = echo.get("attributes");
    edgeValues().forEach((key, value) -> assertEquals(JSON.valueToTree(value), attributes.get(key), key));
    assertTrue(echo.get("headers").findValue("X-WSGIProxy-Version") == null, "proxy headers are consumed");
  }

  @Test
  void ed25519KeysFromKeygenSignTheChain() throws Exception {
    int status = ProxykitCommand.commandLine().execute("keygen", "--ed25519", dir.resolve("chain").toString());
    assertEquals(0, status);
    ProxykitServer middleware = middleware(Map.of("ed25519PublicKeyFile", List.of("chain.pub")));
    ProxykitServer app = app(middleware, Map.of("ed25519PrivateKeyFile", "chain.key"), Map.of("s-empty", "x"));
    HttpResponse<String> response = Servers.get(app, "/app/");
    assertEquals(200, response.statusCode(), response.body());
    assertEquals("x", JSON.readTree(response.body()).at("/attributes/s-empty").asText());
  }

  @Test
  void theMiddlewareRefusesUnsignedRequestsAndKryoFromUntrustedSenders() throws Exception {
    Files.writeString(dir.resolve("secret.key"), "a-shared-secret-for-the-chain-test-0123456789");
    ProxykitServer strict = middleware(Map.of("hmacSecretFile", "secret.key"));
    HttpResponse<String> unsigned = Servers.get(strict, "/x");
    assertEquals(401, unsigned.statusCode());
    assertEquals("request is not signed\n", unsigned.body());

    ProxykitServer lenient = middleware(Map.of("hmacSecretFile", "secret.key", "requireSignature", false));
    HttpResponse<String> kryo = Servers.HTTP.send(HttpRequest.newBuilder(Servers.url(lenient, "/x"))
        .header("X-WSGIProxy-Kryo-0", "k b64AAAA").build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(403, kryo.statusCode());
    HttpResponse<String> spoofed = Servers.HTTP.send(HttpRequest.newBuilder(Servers.url(lenient, "/x"))
        .header("X-Forwarded-For", "6.6.6.6").header("X-WSGIProxy-Str-0", "REMOTE_USER admin").build(),
        HttpResponse.BodyHandlers.ofString());
    JsonNode echo = JSON.readTree(spoofed.body());
    assertEquals("127.0.0.1", echo.get("remoteAddr").asText());
    assertTrue(echo.get("attributes").isEmpty(), spoofed.body());
  }
}
