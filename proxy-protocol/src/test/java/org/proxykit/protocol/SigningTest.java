package org.proxykit.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.proxykit.api.ProxyRequest;
import org.proxykit.api.ProxyStatusException;

class SigningTest {
  private static final Instant NOW = Instant.parse("2026-11-24T00:00:00Z");
  private static final Keys.Hmac KEY = Keys.hmac("0123456789abcdef0123456789abcdef-secret".getBytes(StandardCharsets.US_ASCII), null);

  private final RequestSigner signer = new RequestSigner(KEY, Clock.fixed(NOW, ZoneOffset.UTC));

  private static RequestVerifier verifier(Instant now, VerificationKey... keys) {
    return RequestVerifier.builder(List.of(keys)).clock(Clock.fixed(now, ZoneOffset.UTC)).build();
  }

  private static ProxyRequest request() {
    return ProxyRequest.blank("http://backend.example:9000/base/x?a=1&href=2").toBuilder()
        .method("POST")
        .header("X-Forwarded-For", "10.0.0.1")
        .header("X-Forwarded-Server", "front.example")
        .header("X-WSGIProxy-Str-0", "REMOTE_USER bob")
        .header("Content-Type", "text/plain")
        .build();
  }

  @Test
  void aSignedRequestVerifiesOnceAndCoversWhatItMust() throws Exception {
    ProxyRequest signed = signer.sign(request());
    String input = signed.header("Signature-Input");
    assertTrue(input.startsWith("wsgiproxy=(\"@method\" \"@authority\" \"@path\" \"@query\" \"x-forwarded-for\" "
        + "\"x-forwarded-server\" \"x-wsgiproxy-str-0\");created=" + NOW.getEpochSecond() + ";keyid=\"" + KEY.keyId()
        + "\";alg=\"hmac-sha256\";nonce=\""), input);
    RequestVerifier verifier = verifier(NOW, KEY);
    verifier.verify(signed);
    assertRefused("nonce was used before (replay)", verifier, signed);
  }

  @ParameterizedTest
  @ValueSource(strings = {"method", "authority", "path", "query", "proxy header", "second value"})
  void tamperingWithACoveredComponentIsRefused(String what) throws Exception {
    ProxyRequest signed = signer.sign(request());
    UnaryOperator<ProxyRequest.Builder> tamper;
    switch (what) {
      case "method": tamper = b -> b.method("PUT"); break;
      case "authority": tamper = b -> b.setHeader("Host", "other.example:9000"); break;
      case "path": tamper = b -> b.pathInfo("/base/y"); break;
      case "query": tamper = b -> b.queryString("a=2&href=2"); break;
      case "proxy header": tamper = b -> b.setHeader("X-Forwarded-For", "6.6.6.6"); break;
      default: tamper = b -> b.header("X-Forwarded-For", "6.6.6.6"); break;
    }
    String reason = what.equals("second value") ? "header X-Forwarded-For appears more than once"
        : "signature does not verify";
    assertRefused(reason, verifier(NOW, KEY), tamper.apply(signed.toBuilder()).build());
  }

  @Test
  void anUncoveredProxyHeaderIsRefused() throws Exception {
    ProxyRequest signed = signer.sign(request()).toBuilder().header("X-Forwarded-Host", "evil.example").build();
    assertRefused("header X-Forwarded-Host is not covered by the signature", verifier(NOW, KEY), signed);
  }

  @Test
  void aCoveredHeaderSplitIntoTwoLinesIsRefused() throws Exception {
    ProxyRequest signed = signer.sign(request().toBuilder().setHeader("X-WSGIProxy-Str-0", "REMOTE_USER Doe, John").build());
    ProxyRequest split = signed.toBuilder().removeHeader("X-WSGIProxy-Str-0")
        .header("X-WSGIProxy-Str-0", "REMOTE_USER Doe").header("X-WSGIProxy-Str-0", "John").build();
    assertRefused("header X-WSGIProxy-Str-0 appears more than once", verifier(NOW, KEY), split);
  }

  @Test
  void underscoreSpellingsOfProxyHeadersMustBeCoveredToo() throws Exception {
    ProxyRequest signed = signer.sign(request()).toBuilder().header("X_WSGIProxy_Host", "evil.example").build();
    assertRefused("header X_WSGIProxy_Host is not covered by the signature", verifier(NOW, KEY), signed);
  }

  @Test
  void uncoveredOrdinaryHeadersMayChange() throws Exception {
    ProxyRequest signed = signer.sign(request()).toBuilder().setHeader("Content-Type", "text/html").build();
    verifier(NOW, KEY).verify(signed);
  }

  @Test
  void tooOldAndFutureSignaturesAreRefused() throws Exception {
    ProxyRequest signed = signer.sign(request());
    verifier(NOW.plusSeconds(60), KEY).verify(signer.sign(request()));
    assertRefused("signature is too old", verifier(NOW.plusSeconds(61), KEY), signed);
    verifier(NOW.minusSeconds(5), KEY).verify(signer.sign(request()));
    assertRefused("signature is from the future", verifier(NOW.minusSeconds(6), KEY), signed);
  }

  @Test
  void aWrongKeyOrAnUnknownKeyIdIsRefused() throws Exception {
    ProxyRequest signed = signer.sign(request());
    Keys.Hmac sameIdOtherSecret = Keys.hmac("another-secret-that-is-long-enough-to-use".getBytes(StandardCharsets.US_ASCII),
        KEY.keyId());
    assertRefused("signature does not verify", verifier(NOW, sameIdOtherSecret), signed);
    Keys.Hmac other = Keys.hmac("another-secret-that-is-long-enough-to-use".getBytes(StandardCharsets.US_ASCII), null);
    assertRefused("unknown keyid", verifier(NOW, other), signed);
  }

  @Test
  void missingAndMalformedSignaturesAreRefused() throws Exception {
    RequestVerifier verifier = verifier(NOW, KEY);
    assertRefused("request is not signed", verifier, request());
    ProxyRequest signed = signer.sign(request());
    assertRefused("malformed signature headers", verifier,
        signed.toBuilder().setHeader("Signature", "wsgiproxy=:not base64!:").build());
    assertRefused("no wsgiproxy signature", verifier,
        signed.toBuilder().setHeader("Signature", "other=:AAAA:").build());
    String input = signed.header("Signature-Input");
    assertRefused("signature parameters created, keyid and nonce are required", verifier,
        signed.toBuilder().setHeader("Signature-Input", input.replaceAll(";nonce=\"[^\"]*\"", "")).build());
    assertRefused("signature does not cover @query", verifier,
        signed.toBuilder().setHeader("Signature-Input", input.replace(" \"@query\"", "")).build());
    assertRefused("alg does not match the key", verifier,
        signed.toBuilder().setHeader("Signature-Input", input.replace("hmac-sha256", "ed25519")).build());
  }

  @Test
  void keysRotateWithoutDowntime() throws Exception {
    Keys.Hmac next = Keys.hmac("the-next-secret-which-is-long-enough!!".getBytes(StandardCharsets.US_ASCII), null);
    assertNotEquals(KEY.keyId(), next.keyId());
    RequestVerifier both = verifier(NOW, KEY, next);
    both.verify(signer.sign(request()));
    both.verify(new RequestSigner(next, Clock.fixed(NOW, ZoneOffset.UTC)).sign(request()));
  }

  @Test
  void ed25519SignsAndVerifies() throws Exception {
    SigningKey privateKey = Keys.ed25519PrivateKey(Rfc9421VectorsTest.resource("rfc9421-b1-4-test-key-ed25519.priv.pem"), null);
    VerificationKey publicKey = Keys.ed25519PublicKey(Rfc9421VectorsTest.resource("rfc9421-b1-4-test-key-ed25519.pub.pem"), null);
    ProxyRequest signed = new RequestSigner(privateKey, Clock.fixed(NOW, ZoneOffset.UTC)).sign(request());
    verifier(NOW, publicKey).verify(signed);
    assertRefused("signature does not verify", verifier(NOW, publicKey), signed.toBuilder().method("GET").build());
  }

  @Test
  void aSecretFileIsReReadWhenItChanges(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("secret.key"), "first-secret-first-secret-first-secret\n");
    Keys.Hmac key = Keys.hmacSecretFile(file, null);
    String firstId = key.keyId();
    assertEquals(Keys.hmac("first-secret-first-secret-first-secret".getBytes(StandardCharsets.US_ASCII), null).keyId(),
        firstId, "the trailing line break is not part of the secret");
    Files.writeString(file, "second-secret-second-secret-second-secret-longer\n");
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (key.keyId().equals(firstId) && System.nanoTime() < deadline) {
      java.util.concurrent.locks.LockSupport.parkNanos(10_000_000);
    }
    assertNotEquals(firstId, key.keyId());
    Files.writeString(file, "short\n");
    String secondId = key.keyId();
    long until = System.nanoTime() + Duration.ofMillis(1500).toNanos();
    while (System.nanoTime() < until) {
      assertEquals(secondId, key.keyId(), "a too-short secret must not replace a good one");
      java.util.concurrent.locks.LockSupport.parkNanos(50_000_000);
    }
  }

  @Test
  void aTooShortSecretIsRefusedAtStartup(@TempDir Path dir) throws Exception {
    IllegalArgumentException bytes = assertThrows(IllegalArgumentException.class,
        () -> Keys.hmac("short".getBytes(StandardCharsets.US_ASCII), null));
    assertEquals("shared secret is 5 bytes; at least 32 are needed (proxykit keygen makes one)", bytes.getMessage());
    Path file = Files.writeString(dir.resolve("short.key"), "short");
    IllegalArgumentException fromFile = assertThrows(IllegalArgumentException.class, () -> Keys.hmacSecretFile(file, null));
    assertEquals(file + ": the shared secret is 5 bytes; at least 32 are needed (proxykit keygen makes one)",
        fromFile.getMessage());
  }

  private static void assertRefused(String reason, RequestVerifier verifier, ProxyRequest request) {
    ProxyStatusException e = assertThrows(ProxyStatusException.class, () -> verifier.verify(request));
    assertEquals(401, e.status());
    assertEquals(reason, e.reason());
  }
}
