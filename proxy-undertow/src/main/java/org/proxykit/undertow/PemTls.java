package org.proxykit.undertow;

import java.io.IOException;
import java.io.Reader;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAKey;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * Makes a server TLS context from PEM files, the way nginx and most tools keep them. Used
 * when the server is made, so {@code proxykit check} reads the files exactly as {@code serve}.
 */
final class PemTls {
  private PemTls() {}

  /**
   * Returns a TLS context serving the chain in {@code certFile} with the key in {@code keyFile}.
   *
   * @throws ConfigException naming {@code server.tls.cert} or {@code server.tls.key} if a file
   *     cannot be read, holds no usable certificate or key, or the key is not the certificate's
   */
  static SSLContext serverContext(Path certFile, Path keyFile, String source) {
    List<X509Certificate> chain = new ArrayList<>();
    JcaX509CertificateConverter certificates = new JcaX509CertificateConverter();
    try {
      for (Object item : read(certFile)) {
        if (item instanceof X509CertificateHolder) {
          chain.add(certificates.getCertificate((X509CertificateHolder) item));
        }
      }
    } catch (IOException | GeneralSecurityException e) {
      throw new ConfigException(source + ": server.tls.cert: cannot read '" + certFile + "': " + problem(e));
    }
    if (chain.isEmpty()) {
      throw new ConfigException(source + ": server.tls.cert: no CERTIFICATE in '" + certFile + "'");
    }
    PrivateKey key = null;
    JcaPEMKeyConverter keys = new JcaPEMKeyConverter();
    try {
      for (Object item : read(keyFile)) {
        if (item instanceof PEMKeyPair) {
          key = keys.getPrivateKey(((PEMKeyPair) item).getPrivateKeyInfo());
        } else if (item instanceof PrivateKeyInfo) {
          key = keys.getPrivateKey((PrivateKeyInfo) item);
        }
      }
    } catch (IOException e) {
      throw new ConfigException(source + ": server.tls.key: cannot read '" + keyFile + "': " + problem(e));
    }
    if (key == null) {
      throw new ConfigException(source + ": server.tls.key: no unencrypted PRIVATE KEY in '" + keyFile + "'");
    }
    if (!matches(key, chain.get(0).getPublicKey())) {
      throw new ConfigException(source + ": server.tls.key: '" + keyFile
          + "' is not the private key of the first certificate in '" + certFile + "'");
    }
    try {
      char[] password = new char[0];
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry("server", key, password, chain.toArray(new X509Certificate[0]));
      KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      factory.init(store, password);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(factory.getKeyManagers(), null, null);
      return context;
    } catch (GeneralSecurityException | IOException e) {
      throw new ConfigException(source + ": server.tls: cannot make a TLS context: " + problem(e));
    }
  }

  /**
   * Returns true if {@code key} is the private half of {@code certified}: same RSA modulus, or
   * a signature made with it verifies with the certificate's key (EC, EdDSA, DSA).
   */
  static boolean matches(PrivateKey key, PublicKey certified) {
    if (key instanceof RSAKey || certified instanceof RSAKey) {
      if (!(key instanceof RSAKey && certified instanceof RSAKey)) {
        return false;
      }
      BigInteger modulus = ((RSAKey) key).getModulus();
      return modulus.equals(((RSAKey) certified).getModulus());
    }
    String algorithm = switch (key.getAlgorithm()) {
      case "EC" -> "SHA256withECDSA";
      case "DSA" -> "SHA256withDSA";
      default -> key.getAlgorithm();  // Ed25519, Ed448, EdDSA: the key names its signature
    };
    byte[] challenge = new byte[32];
    new SecureRandom().nextBytes(challenge);
    try {
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(challenge);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(certified);
      verifier.update(challenge);
      return verifier.verify(signature);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      // another curve or key type: the certificate's key cannot verify what this key signs
      return false;
    }
  }

  private static String problem(Exception e) {
    if (e instanceof NoSuchFileException) {
      return "no such file";
    }
    if (e instanceof java.nio.charset.CharacterCodingException) {
      return "not a PEM text file";
    }
    String message = e.getMessage() == null ? e.toString() : e.getMessage();
    return message.lines().findFirst().orElse(message);
  }

  private static List<Object> read(Path file) throws IOException {
    List<Object> items = new ArrayList<>();
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII); PEMParser pem = new PEMParser(reader)) {
      for (Object item; (item = pem.readObject()) != null; ) {
        items.add(item);
      }
    } catch (org.bouncycastle.util.encoders.DecoderException e) {
      throw new IOException("not valid PEM: bad base64", e);
    } catch (RuntimeException e) {
      // Bouncy Castle's parsers fail on some malformed input with unchecked exceptions
      throw new IOException("not valid PEM", e);
    }
    return items;
  }
}
