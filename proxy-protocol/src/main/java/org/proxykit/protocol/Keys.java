package org.proxykit.protocol;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.crypto.util.PublicKeyFactory;
import org.bouncycastle.openssl.PEMParser;
import org.proxykit.api.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the signing and verification keys: an HMAC-SHA256 shared secret (in a file that is
 * re-read when it changes, like WSGIProxy's secret_file) and Ed25519 keys in PEM files. A
 * key id not given is derived from the key ({@code hmac-} or {@code ed25519-} and 16 hex
 * digits of a SHA-256), so a new secret brings a new id and keys can be rotated: the
 * middleware holds old and new, the app switches, then the old one goes.
 *
 * @since 0.1
 */
public final class Keys {
  /** The shortest shared secret accepted: 32 bytes, the HMAC-SHA256 block security level. */
  public static final int MIN_SECRET_BYTES = 32;
  /** Algorithm name of HMAC-SHA256 in RFC 9421. */
  public static final String HMAC_SHA256 = "hmac-sha256";
  /** Algorithm name of Ed25519 in RFC 9421. */
  public static final String ED25519 = "ed25519";

  private static final Logger log = LoggerFactory.getLogger(Keys.class);

  private Keys() {}

  /**
   * Returns an HMAC-SHA256 key from {@code secret} bytes.
   *
   * @param keyId the key id, or null to derive one from the secret
   * @throws IllegalArgumentException if the secret is shorter than {@value #MIN_SECRET_BYTES} bytes
   */
  public static Hmac hmac(byte[] secret, @Nullable String keyId) {
    checkSecret(secret, "shared secret");
    return new Hmac(() -> secret, keyId);
  }

  /**
   * Returns an HMAC-SHA256 key whose secret is the content of {@code file} (a trailing line
   * break is not part of it), re-read when the file changes; a changed file that is too
   * short is logged and ignored, keeping the previous secret.
   *
   * @param keyId the key id, or null to derive one from the current secret
   * @throws IllegalArgumentException if the file cannot be read or holds fewer than {@value #MIN_SECRET_BYTES} bytes
   */
  public static Hmac hmacSecretFile(Path file, @Nullable String keyId) {
    SecretFile secret = new SecretFile(file);
    return new Hmac(secret::current, keyId);
  }

  /**
   * Returns the Ed25519 private key in the PEM file {@code file} (PKCS#8 {@code PRIVATE KEY}).
   *
   * @param keyId the key id, or null to derive one from the public key
   * @throws IllegalArgumentException if the file holds no Ed25519 private key
   */
  public static SigningKey ed25519PrivateKey(Path file, @Nullable String keyId) {
    Object pem = readPem(file);
    try {
      if (pem instanceof PrivateKeyInfo
          && PrivateKeyFactory.createKey((PrivateKeyInfo) pem) instanceof Ed25519PrivateKeyParameters) {
        Ed25519PrivateKeyParameters key = (Ed25519PrivateKeyParameters) PrivateKeyFactory.createKey((PrivateKeyInfo) pem);
        return new Ed25519Signing(key, keyId != null ? keyId : derivedId(ED25519, key.generatePublicKey().getEncoded()));
      }
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": not an Ed25519 private key: " + e.getMessage());
    }
    throw new IllegalArgumentException(file + ": no Ed25519 PRIVATE KEY in it");
  }

  /**
   * Returns the Ed25519 public key in the PEM file {@code file} ({@code PUBLIC KEY}).
   *
   * @param keyId the key id, or null to derive one as {@link #ed25519PrivateKey} does
   * @throws IllegalArgumentException if the file holds no Ed25519 public key
   */
  public static VerificationKey ed25519PublicKey(Path file, @Nullable String keyId) {
    Object pem = readPem(file);
    try {
      if (pem instanceof SubjectPublicKeyInfo
          && PublicKeyFactory.createKey((SubjectPublicKeyInfo) pem) instanceof Ed25519PublicKeyParameters) {
        Ed25519PublicKeyParameters key = (Ed25519PublicKeyParameters) PublicKeyFactory.createKey((SubjectPublicKeyInfo) pem);
        return new Ed25519Verification(key, keyId != null ? keyId : derivedId(ED25519, key.getEncoded()));
      }
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": not an Ed25519 public key: " + e.getMessage());
    }
    throw new IllegalArgumentException(file + ": no Ed25519 PUBLIC KEY in it");
  }

  private static Object readPem(Path file) {
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII); PEMParser pem = new PEMParser(reader)) {
      Object object = pem.readObject();
      if (object == null) {
        throw new IllegalArgumentException(file + ": no PEM object in it");
      }
      return object;
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": cannot read: " + e.getMessage());
    }
  }

  static String derivedId(String algorithm, byte[] material) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(material);
      return (algorithm.equals(HMAC_SHA256) ? "hmac-" : "ed25519-") + HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void checkSecret(byte[] secret, String what) {
    if (secret.length < MIN_SECRET_BYTES) {
      throw new IllegalArgumentException(what + " is " + secret.length + " bytes; at least " + MIN_SECRET_BYTES
          + " are needed (proxykit keygen makes one)");
    }
  }

  /** An HMAC-SHA256 key: signs and verifies. */
  public static final class Hmac implements SigningKey, VerificationKey {
    // each thread keeps one JDK Mac (its SHA-256 is compiled to the CPU's own instructions),
    // set up again only when the secret changes: signing is on every request's path
    private static final ThreadLocal<ThreadMac> MACS = ThreadLocal.withInitial(ThreadMac::new);

    private final java.util.function.Supplier<byte[]> secret;
    private final @Nullable String keyId;
    private volatile @Nullable Prepared prepared;

    private Hmac(java.util.function.Supplier<byte[]> secret, @Nullable String keyId) {
      this.secret = secret;
      this.keyId = keyId;
      prepared();
    }

    @Override
    public String keyId() {
      return keyId != null ? keyId : prepared().derivedId;
    }

    @Override
    public String algorithm() {
      return HMAC_SHA256;
    }

    @Override
    public byte[] sign(byte[] base) {
      ThreadMac mac = MACS.get();
      Prepared current = prepared();
      try {
        if (mac.preparedFor != current) {
          mac.mac.init(current.key);
          mac.preparedFor = current;
        }
        return mac.mac.doFinal(base);
      } catch (java.security.InvalidKeyException e) {
        throw new IllegalStateException("HmacSHA256 refused the key", e);
      }
    }

    @Override
    public boolean verify(byte[] base, byte[] signature) {
      return MessageDigest.isEqual(sign(base), signature);
    }

    @Override
    public String toString() {
      return "hmac-sha256 key " + keyId();
    }

    /** Returns the secret as it is now, with what is derived from it; the same object until the secret changes. */
    private Prepared prepared() {
      byte[] now = secret.get();
      Prepared current = prepared;
      if (current == null || current.secret != now) {
        current = new Prepared(now);
        prepared = current;
      }
      return current;
    }

    private static final class Prepared {
      final byte[] secret;
      final String derivedId;
      final javax.crypto.spec.SecretKeySpec key;

      Prepared(byte[] secret) {
        this.secret = secret;
        this.derivedId = derivedId(HMAC_SHA256, secret);
        this.key = new javax.crypto.spec.SecretKeySpec(secret, "HmacSHA256");
      }
    }

    private static final class ThreadMac {
      final javax.crypto.Mac mac;
      @Nullable Prepared preparedFor;

      ThreadMac() {
        try {
          mac = javax.crypto.Mac.getInstance("HmacSHA256");
        } catch (NoSuchAlgorithmException e) {
          throw new IllegalStateException("this JVM has no HmacSHA256", e);
        }
      }
    }
  }

  private static final class Ed25519Signing implements SigningKey {
    private final Ed25519PrivateKeyParameters key;
    private final String keyId;

    Ed25519Signing(Ed25519PrivateKeyParameters key, String keyId) {
      this.key = key;
      this.keyId = keyId;
    }

    @Override
    public String keyId() {
      return keyId;
    }

    @Override
    public String algorithm() {
      return ED25519;
    }

    @Override
    public byte[] sign(byte[] base) {
      Ed25519Signer signer = new Ed25519Signer();
      signer.init(true, key);
      signer.update(base, 0, base.length);
      return signer.generateSignature();
    }

    @Override
    public String toString() {
      return "ed25519 private key " + keyId;
    }
  }

  private static final class Ed25519Verification implements VerificationKey {
    private final Ed25519PublicKeyParameters key;
    private final String keyId;

    Ed25519Verification(Ed25519PublicKeyParameters key, String keyId) {
      this.key = key;
      this.keyId = keyId;
    }

    @Override
    public String keyId() {
      return keyId;
    }

    @Override
    public String algorithm() {
      return ED25519;
    }

    @Override
    public boolean verify(byte[] base, byte[] signature) {
      Ed25519Signer verifier = new Ed25519Signer();
      verifier.init(false, key);
      verifier.update(base, 0, base.length);
      return verifier.verifySignature(signature);
    }

    @Override
    public String toString() {
      return "ed25519 public key " + keyId;
    }
  }

  /** A secret in a file, re-read when its modification time or size changes (checked at most once a second). */
  private static final class SecretFile {
    private final Path file;
    private byte[] secret;
    private FileTime modified;
    private long size;
    private long checkedAt;

    SecretFile(Path file) {
      this.file = Objects.requireNonNull(file, "file");
      try {
        load();
      } catch (java.nio.file.NoSuchFileException e) {
        throw new IllegalArgumentException(file + ": cannot read the shared secret: no such file");
      } catch (IOException e) {
        throw new IllegalArgumentException(file + ": cannot read the shared secret: " + e.getMessage());
      }
    }

    synchronized byte[] current() {
      long now = System.nanoTime();
      if (now - checkedAt > 1_000_000_000L) {
        checkedAt = now;
        try {
          if (!Files.getLastModifiedTime(file).equals(modified) || Files.size(file) != size) {
            load();
            log.info("shared secret {} changed: now key {}", file, derivedId(HMAC_SHA256, secret));
          }
        } catch (IOException | IllegalArgumentException e) {
          log.error("shared secret {} could not be re-read, keeping the previous one: {}", file, e.getMessage());
        }
      }
      return secret;
    }

    private void load() throws IOException {
      FileTime time = Files.getLastModifiedTime(file);
      long length = Files.size(file);
      String text = Files.readString(file, StandardCharsets.ISO_8859_1);
      byte[] bytes = text.strip().getBytes(StandardCharsets.ISO_8859_1);
      checkSecret(bytes, file + ": the shared secret");
      this.secret = bytes;
      this.modified = time;
      this.size = length;
    }
  }
}
