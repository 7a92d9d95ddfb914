package org.proxykit.undertow;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
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

/** Makes a server TLS context from PEM files, the way nginx and most tools keep them. */
final class PemTls {
  private PemTls() {}

  /**
   * Returns a TLS context serving the chain in {@code certFile} with the key in {@code keyFile}.
   *
   * @throws ConfigException naming the file if it holds no usable certificate or key
   */
  static SSLContext serverContext(Path certFile, Path keyFile, String source) {
    List<X509Certificate> chain = new ArrayList<>();
    PrivateKey key = null;
    JcaX509CertificateConverter certificates = new JcaX509CertificateConverter();
    JcaPEMKeyConverter keys = new JcaPEMKeyConverter();
    try {
      for (Object item : read(certFile)) {
        if (item instanceof X509CertificateHolder) {
          chain.add(certificates.getCertificate((X509CertificateHolder) item));
        }
      }
      for (Object item : read(keyFile)) {
        if (item instanceof PEMKeyPair) {
          key = keys.getPrivateKey(((PEMKeyPair) item).getPrivateKeyInfo());
        } else if (item instanceof PrivateKeyInfo) {
          key = keys.getPrivateKey((PrivateKeyInfo) item);
        }
      }
    } catch (IOException | GeneralSecurityException e) {
      throw new ConfigException(source + ": server.tls: cannot read PEM: " + e.getMessage());
    }
    if (chain.isEmpty()) {
      throw new ConfigException(source + ": server.tls.cert: no CERTIFICATE in '" + certFile + "'");
    }
    if (key == null) {
      throw new ConfigException(source + ": server.tls.key: no unencrypted PRIVATE KEY in '" + keyFile + "'");
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
      throw new ConfigException(source + ": server.tls: the key does not fit the certificate: " + e.getMessage());
    }
  }

  private static List<Object> read(Path file) throws IOException {
    List<Object> items = new ArrayList<>();
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII); PEMParser pem = new PEMParser(reader)) {
      for (Object item; (item = pem.readObject()) != null; ) {
        items.add(item);
      }
    }
    return items;
  }
}
