package org.proxykit.undertow.cli;

import java.io.IOException;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.concurrent.Callable;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.util.PrivateKeyInfoFactory;
import org.bouncycastle.crypto.util.SubjectPublicKeyInfoFactory;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;
import org.proxykit.protocol.Keys;
import org.proxykit.undertow.ConfigException;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code proxykit keygen}: writes a new HMAC shared secret, or an Ed25519 key pair, with
 * secret files readable by their owner only. Never overwrites a file.
 */
@Command(name = "keygen", mixinStandardHelpOptions = true,
    description = {"Writes a new signing key; secret files are readable by their owner only.",
        "--hmac FILE: a 64-byte random shared secret (the app's signing.hmacSecretFile and the middleware's "
            + "trust.hmacSecretFile).",
        "--ed25519 NAME: NAME.key (private, for the app) and NAME.pub (public, for the middleware)."})
final class KeygenCommand implements Callable<Integer> {
  @ArgGroup(exclusive = true, multiplicity = "1")
  Kind kind;

  /** Which key to make. */
  static final class Kind {
    @Option(names = "--hmac", paramLabel = "FILE", description = "write an HMAC-SHA256 shared secret to FILE")
    Path hmac;

    @Option(names = "--ed25519", paramLabel = "NAME", description = "write NAME.key and NAME.pub")
    Path ed25519;
  }

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    SecureRandom random = new SecureRandom();
    if (kind.hmac != null) {
      byte[] secret = new byte[64];
      random.nextBytes(secret);
      String text = Base64.getEncoder().encodeToString(secret);
      write(kind.hmac, text + "\n", true);
      say("wrote " + kind.hmac + " (key id " + Keys.hmac(text.getBytes(StandardCharsets.ISO_8859_1), null).keyId() + ")");
    } else {
      Ed25519PrivateKeyParameters key = new Ed25519PrivateKeyParameters(random);
      Path privateFile = Path.of(kind.ed25519 + ".key");
      Path publicFile = Path.of(kind.ed25519 + ".pub");
      if (Files.exists(publicFile)) {
        throw new ConfigException(publicFile + ": exists already; proxykit keygen never overwrites a key");
      }
      write(privateFile, pem("PRIVATE KEY", PrivateKeyInfoFactory.createPrivateKeyInfo(key).getEncoded()), true);
      write(publicFile, pem("PUBLIC KEY",
          SubjectPublicKeyInfoFactory.createSubjectPublicKeyInfo(key.generatePublicKey()).getEncoded()), false);
      say("wrote " + privateFile + " (private, for the app) and " + publicFile + " (public, for the middleware); key id "
          + Keys.ed25519PublicKey(publicFile, null).keyId());
    }
    return 0;
  }

  private void say(String line) {
    spec.commandLine().getOut().println(line);
    spec.commandLine().getOut().flush();
  }

  private static String pem(String type, byte[] der) throws IOException {
    StringWriter text = new StringWriter();
    try (PemWriter pem = new PemWriter(text)) {
      pem.writeObject(new PemObject(type, der));
    }
    return text.toString();
  }

  /** Creates {@code file} (never replacing one), owner-only if {@code secret}, and writes {@code text}. */
  private static void write(Path file, String text, boolean secret) throws IOException {
    try {
      if (secret && file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      } else {
        Files.createFile(file);
      }
    } catch (FileAlreadyExistsException e) {
      throw new ConfigException(file + ": exists already; proxykit keygen never overwrites a key");
    }
    try (Writer writer = Files.newBufferedWriter(file, StandardCharsets.US_ASCII)) {
      writer.write(text);
    }
  }
}
