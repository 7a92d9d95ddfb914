package org.proxykit.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throwaway self-signed certificate for {@code localhost}, {@value #TEST_HOST} and {@code 127.0.0.1}, made
 * fresh for each test run (no key is ever committed), with the TLS contexts and files a
 * test needs on both sides.
 *
 * @since 0.1
 */
public final class TestCertificate {
  /** A dotted host name the certificate is also valid for, for tests that map it to 127.0.0.1. */
  public static final String TEST_HOST = "upstream.proxykit.test";

  private static final char[] PASSWORD = "test-only".toCharArray();

  private final KeyPair keyPair;
  private final X509Certificate certificate;

  private TestCertificate(KeyPair keyPair, X509Certificate certificate) {
    this.keyPair = keyPair;
    this.certificate = certificate;
  }

  /** Makes a new EC P-256 key and a certificate valid for a day, for localhost, {@value #TEST_HOST} and 127.0.0.1. */
  public static TestCertificate localhost() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
      KeyPair keyPair = generator.generateKeyPair();
      X500Name name = new X500Name("CN=localhost");
      Instant now = Instant.now();
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name,
          BigInteger.valueOf(now.toEpochMilli()), Date.from(now.minus(Duration.ofMinutes(5))),
          Date.from(now.plus(Duration.ofDays(1))), name, keyPair.getPublic())
          .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
              new GeneralName(GeneralName.dNSName, "localhost"),
              new GeneralName(GeneralName.dNSName, TEST_HOST),
              new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
      X509Certificate certificate = new JcaX509CertificateConverter().getCertificate(
          builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keyPair.getPrivate())));
      return new TestCertificate(keyPair, certificate);
    } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
      throw new IllegalStateException("cannot make a test certificate", e);
    }
  }

  /** Returns the certificate. */
  public X509Certificate certificate() {
    return certificate;
  }

  /** Returns a TLS context that serves this certificate. */
  public SSLContext serverContext() {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry("server", keyPair.getPrivate(), PASSWORD, new X509Certificate[] {certificate});
      KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keys.init(store, PASSWORD);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keys.getKeyManagers(), null, null);
      return context;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Returns a TLS context that trusts this certificate only. */
  public SSLContext clientContext() {
    try {
      TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trust.init(trustStore());
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, trust.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Writes a PKCS12 trust store holding this certificate to {@code file}, with {@code password}. */
  public Path writeTrustStore(Path file, String password) throws IOException {
    try (OutputStream out = Files.newOutputStream(file)) {
      trustStore().store(out, password.toCharArray());
      return file;
    } catch (GeneralSecurityException e) {
      throw new IOException(e);
    }
  }

  /** Writes the certificate and the private key (PKCS#8, unencrypted) as PEM files. */
  public void writePem(Path certificateFile, Path keyFile) throws IOException {
    write(certificateFile, certificate);
    write(keyFile, new JcaPKCS8Generator(keyPair.getPrivate(), null).generate());
  }

  private static void write(Path file, Object pemObject) throws IOException {
    try (Writer writer = Files.newBufferedWriter(file, StandardCharsets.US_ASCII);
         JcaPEMWriter pem = new JcaPEMWriter(writer)) {
      pem.writeObject(pemObject);
    }
  }

  private KeyStore trustStore() throws GeneralSecurityException, IOException {
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    store.setCertificateEntry("localhost", certificate);
    return store;
  }
}
