package org.proxykit.benchmarks;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.util.PrivateKeyInfoFactory;
import org.bouncycastle.crypto.util.SubjectPublicKeyInfoFactory;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.proxykit.api.ProxyRequest;
import org.proxykit.api.ProxyStatusException;
import org.proxykit.protocol.Keys;
import org.proxykit.protocol.RequestSigner;
import org.proxykit.protocol.RequestVerifier;
import org.proxykit.protocol.SigningKey;
import org.proxykit.protocol.VerificationKey;

/** Signing a typical ProxyApp request, and signing plus verifying one. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SignatureBenchmark {
  @Param({"hmac-sha256", "ed25519"})
  public String algorithm;

  private RequestSigner signer;
  private RequestVerifier.Builder verifiers;
  private ProxyRequest request;

  @Setup
  public void setUp() throws IOException {
    SigningKey signing;
    VerificationKey verification;
    if (algorithm.equals("hmac-sha256")) {
      Keys.Hmac key = Keys.hmac("a-benchmark-secret-that-is-long-enough-0123456789".getBytes(StandardCharsets.US_ASCII), null);
      signing = key;
      verification = key;
    } else {
      Ed25519PrivateKeyParameters key = new Ed25519PrivateKeyParameters(new SecureRandom());
      Path dir = Files.createTempDirectory("proxykit-bench");
      Path privateFile = pem(dir.resolve("k.key"), "PRIVATE KEY", PrivateKeyInfoFactory.createPrivateKeyInfo(key).getEncoded());
      Path publicFile = pem(dir.resolve("k.pub"), "PUBLIC KEY",
          SubjectPublicKeyInfoFactory.createSubjectPublicKeyInfo(key.generatePublicKey()).getEncoded());
      signing = Keys.ed25519PrivateKey(privateFile, null);
      verification = Keys.ed25519PublicKey(publicFile, null);
    }
    signer = new RequestSigner(signing, Clock.systemUTC());
    verifiers = RequestVerifier.builder(List.of(verification)).replayCacheSize(Integer.MAX_VALUE);
    request = ProxyRequest.blank("http://backend.example:9000/base/path?q=1&fixed=1").toBuilder()
        .header("X-Forwarded-Server", "front.example").header("X-Forwarded-Scheme", "https")
        .header("X-Forwarded-For", "203.0.113.9").header("X-Forwarded-Script-Name", "/app")
        .header("X-Traversal-Path", "/base").header("X-WSGIProxy-Version", "0.1")
        .header("X-WSGIProxy-Str-0", "REMOTE_USER alice").build();
  }

  @Benchmark
  public ProxyRequest sign() {
    return signer.sign(request);
  }

  /** Sign and verify: each verification needs a fresh nonce, or the replay check would refuse it. */
  @Benchmark
  public ProxyRequest signAndVerify() throws ProxyStatusException {
    ProxyRequest fresh = signer.sign(request);
    verifiers.build().verify(fresh);
    return fresh;
  }

  private static Path pem(Path file, String type, byte[] der) throws IOException {
    try (Writer writer = Files.newBufferedWriter(file); PemWriter pem = new PemWriter(writer)) {
      pem.writeObject(new PemObject(type, der));
    }
    return file;
  }
}
