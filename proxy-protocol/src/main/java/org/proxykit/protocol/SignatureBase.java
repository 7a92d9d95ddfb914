package org.proxykit.protocol;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.proxykit.api.ProxyRequest;

/**
 * The RFC 9421 signature base of a request: one line per covered component, then the
 * {@code @signature-params} line, joined by LF with no LF at the end (section 2.5).
 */
final class SignatureBase {
  private SignatureBase() {}

  /**
   * Returns the serialized signature parameters: the inner list of components, then each
   * parameter ({@code created} as an integer, the others as strings) in the order given.
   */
  static String params(List<String> components, Map<String, Object> parameters) {
    StringBuilder params = new StringBuilder("(");
    for (int i = 0; i < components.size(); i++) {
      params.append(i == 0 ? "" : " ").append(StructuredFields.string(components.get(i)));
    }
    params.append(')');
    parameters.forEach((name, value) -> params.append(';').append(name).append('=')
        .append(value instanceof Long ? value.toString() : StructuredFields.string(value.toString())));
    return params.toString();
  }

  /**
   * Returns the signature base of {@code request} for {@code components} and the serialized
   * {@code params}.
   *
   * @throws IllegalArgumentException naming a covered component the request does not have
   */
  static byte[] of(ProxyRequest request, List<String> components, String params) {
    StringBuilder base = new StringBuilder();
    for (String component : components) {
      base.append(StructuredFields.string(component)).append(": ").append(value(request, component)).append('\n');
    }
    base.append("\"@signature-params\": ").append(params);
    return base.toString().getBytes(StandardCharsets.ISO_8859_1);
  }

  private static String value(ProxyRequest request, String component) {
    switch (component) {
      case "@method":
        return request.method();
      case "@authority":
        return authority(request);
      case "@path":
        return request.path().isEmpty() ? "/" : request.path();
      case "@query":
        return "?" + request.queryString();
      default:
        if (component.startsWith("@") || !component.equals(component.toLowerCase(Locale.ROOT))) {
          throw new IllegalArgumentException("component " + component + " is not supported");
        }
        List<String> values = request.headers().all(component);
        if (values.isEmpty()) {
          throw new IllegalArgumentException("covered component " + component + " is missing");
        }
        List<String> trimmed = new ArrayList<>();
        values.forEach(value -> trimmed.add(value.strip()));
        return String.join(", ", trimmed);
    }
  }

  /** The target authority: the Host header, else serverName[:port], lower case (RFC 9421 section 2.2.3). */
  static String authority(ProxyRequest request) {
    return request.host().toLowerCase(Locale.ROOT);
  }
}
