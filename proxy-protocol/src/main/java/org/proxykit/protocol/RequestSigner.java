package org.proxykit.protocol;

import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import org.proxykit.api.ProxyRequest;

/**
 * Signs requests on the app side with RFC 9421 HTTP Message Signatures, label
 * {@value #LABEL}: covered are {@code @method}, {@code @authority}, {@code @path},
 * {@code @query} and every proxy header present ({@link ProxyHeaders#isProxyHeader}), with
 * the parameters {@code created}, {@code keyid}, {@code alg} and a random {@code nonce}.
 * Sign last, after every header to cover is set. Thread-safe.
 *
 * @since 0.1
 */
public final class RequestSigner {
  /** The signature label. */
  public static final String LABEL = "wsgiproxy";
  static final List<String> REQUIRED = List.of("@method", "@authority", "@path", "@query");

  private final SigningKey key;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();

  /** Makes a signer that signs with {@code key} and the system clock. */
  public RequestSigner(SigningKey key) {
    this(key, Clock.systemUTC());
  }

  /** Makes a signer that signs with {@code key} and takes {@code created} from {@code clock}. */
  public RequestSigner(SigningKey key, Clock clock) {
    this.key = Objects.requireNonNull(key, "key");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** Returns {@code request} with Signature-Input and Signature headers (replacing any) added. */
  public ProxyRequest sign(ProxyRequest request) {
    ProxyRequest unsigned = request.toBuilder()
        .removeHeader(ProxyHeaders.SIGNATURE_INPUT).removeHeader(ProxyHeaders.SIGNATURE).build();
    List<String> components = new ArrayList<>(REQUIRED);
    TreeSet<String> proxyHeaders = new TreeSet<>();
    for (String name : unsigned.headers().names()) {
      if (ProxyHeaders.isProxyHeader(name)) {
        proxyHeaders.add(name.toLowerCase(Locale.ROOT));
      }
    }
    components.addAll(proxyHeaders);
    byte[] nonce = new byte[16];
    random.nextBytes(nonce);
    Map<String, Object> parameters = new LinkedHashMap<>();
    parameters.put("created", clock.instant().getEpochSecond());
    parameters.put("keyid", key.keyId());
    parameters.put("alg", key.algorithm());
    parameters.put("nonce", Base64.getUrlEncoder().withoutPadding().encodeToString(nonce));
    String params = SignatureBase.params(components, parameters);
    byte[] signature = key.sign(SignatureBase.of(unsigned, components, params));
    return unsigned.toBuilder()
        .setHeader(ProxyHeaders.SIGNATURE_INPUT, LABEL + "=" + params)
        .setHeader(ProxyHeaders.SIGNATURE, LABEL + "=:" + Base64.getEncoder().encodeToString(signature) + ":")
        .build();
  }

  @Override
  public String toString() {
    return "RequestSigner(" + key + ")";
  }
}
