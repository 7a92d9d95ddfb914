package org.proxykit.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.proxykit.api.ProxyRequest;

/** RFC 9421 Appendix B.2.5 (hmac-sha256) and B.2.6 (ed25519), reproduced byte for byte. */
class Rfc9421VectorsTest {

  @Test
  void hmacSha256VectorB25() throws Exception {
    ProxyRequest request = exampleRequest();
    List<String> components = List.of("date", "@authority", "content-type");
    Map<String, Object> parameters = new LinkedHashMap<>();
    parameters.put("created", 1618884473L);
    parameters.put("keyid", "test-shared-secret");
    String params = SignatureBase.params(components, parameters);
    byte[] base = SignatureBase.of(request, components, params);
    assertEquals(text("rfc9421-b25-signature-base.txt"), new String(base, StandardCharsets.ISO_8859_1));

    Keys.Hmac key = Keys.hmac(Base64.getDecoder().decode(text("rfc9421-b1-5-test-shared-secret.b64")), "test-shared-secret");
    byte[] signature = key.sign(base);
    assertEquals("sig-b25=:" + Base64.getEncoder().encodeToString(signature) + ":", header("rfc9421-b25-headers.txt", "Signature"));
    assertEquals("sig-b25=" + params, header("rfc9421-b25-headers.txt", "Signature-Input"));
    assertTrue(key.verify(base, signature));
    byte[] withTrailingNewline = (new String(base, StandardCharsets.ISO_8859_1) + "\n").getBytes(StandardCharsets.ISO_8859_1);
    assertFalse(key.verify(withTrailingNewline, signature), "the negative control must not verify");
  }

  @Test
  void ed25519VectorB26() throws Exception {
    ProxyRequest request = exampleRequest();
    StructuredFields.Member input = StructuredFields.dictionary(
        header("rfc9421-b26-headers.txt", "Signature-Input")).get("sig-b26");
    String params = SignatureBase.params(input.items, input.params);
    assertEquals(header("rfc9421-b26-headers.txt", "Signature-Input"), "sig-b26=" + params);
    byte[] base = SignatureBase.of(request, input.items, params);
    assertEquals(text("rfc9421-b26-signature-base.txt"), new String(base, StandardCharsets.ISO_8859_1));

    SigningKey privateKey = Keys.ed25519PrivateKey(resource("rfc9421-b1-4-test-key-ed25519.priv.pem"), "test-key-ed25519");
    byte[] expected = StructuredFields.dictionary(header("rfc9421-b26-headers.txt", "Signature")).get("sig-b26").bytes;
    assertArrayEquals(expected, privateKey.sign(base), "Ed25519 is deterministic: the RFC's signature comes out");
    VerificationKey publicKey = Keys.ed25519PublicKey(resource("rfc9421-b1-4-test-key-ed25519.pub.pem"), "test-key-ed25519");
    assertTrue(publicKey.verify(base, expected));
    expected[0] ^= 1;
    assertFalse(publicKey.verify(base, expected));
  }

  @Test
  void derivedKeyIdsOfAPairAgree() throws Exception {
    SigningKey privateKey = Keys.ed25519PrivateKey(resource("rfc9421-b1-4-test-key-ed25519.priv.pem"), null);
    VerificationKey publicKey = Keys.ed25519PublicKey(resource("rfc9421-b1-4-test-key-ed25519.pub.pem"), null);
    assertEquals(privateKey.keyId(), publicKey.keyId());
    assertTrue(privateKey.keyId().matches("ed25519-[0-9a-f]{16}"), privateKey.keyId());
  }

  /** The RFC's example request (B.2), parsed from its exact wire bytes. */
  static ProxyRequest exampleRequest() throws IOException {
    String wire = text("rfc9421-b2-request.http");
    String[] lines = wire.substring(0, wire.indexOf("\r\n\r\n")).split("\r\n");
    String[] requestLine = lines[0].split(" ");
    String target = requestLine[1];
    ProxyRequest.Builder request = ProxyRequest.builder().method(requestLine[0]).serverName("example.com")
        .pathInfo(target.substring(0, target.indexOf('?'))).queryString(target.substring(target.indexOf('?') + 1));
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      request.header(lines[i].substring(0, colon), lines[i].substring(colon + 1).strip());
    }
    return request.build();
  }

  static String text(String name) throws IOException {
    try (InputStream in = Rfc9421VectorsTest.class.getResourceAsStream("/vectors/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }

  static Path resource(String name) throws URISyntaxException {
    return Path.of(Rfc9421VectorsTest.class.getResource("/vectors/" + name).toURI());
  }

  private static String header(String file, String name) throws IOException {
    for (String line : text(file).split("\r\n")) {
      if (line.startsWith(name + ": ")) {
        return line.substring(name.length() + 2);
      }
    }
    throw new AssertionError(name + " not in " + file);
  }
}
