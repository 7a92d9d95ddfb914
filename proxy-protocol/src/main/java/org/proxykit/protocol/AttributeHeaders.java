package org.proxykit.protocol;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.proxykit.api.HttpHeaders;
import org.proxykit.api.ProxyStatusException;
import org.proxykit.api.spi.HeaderCodec;

/**
 * Request attributes as {@code X-WSGIProxy-<Kind>-<n>: <key> <value>} headers, as WSGIProxy
 * 0.1 writes them: n is the key's place (from 0) in its kind's list, the key is percent-encoded UTF-8, the value is
 * the codec's bytes, sent as they are when they are printable ASCII without leading or
 * trailing space and not starting with {@code b64}, else as {@code b64} + base64.
 *
 * @since 0.1
 */
public final class AttributeHeaders {
  private static final Pattern NAME = Pattern.compile("(?i)x-wsgiproxy-([a-z][a-z0-9]*)-(\\d+)");
  private static final String B64 = "b64";

  private AttributeHeaders() {}

  /**
   * Adds to {@code out} a header for each attribute named in {@code keysByKind} (kind to keys,
   * in order) that {@code attributes} holds; absent attributes are skipped.
   *
   * @throws IllegalArgumentException naming the kind or key if a kind is unknown or a value
   *     cannot be encoded by its kind
   */
  public static void encode(Map<String, Object> attributes, Map<String, List<String>> keysByKind, HeaderCodecs codecs,
      HttpHeaders.Builder out) {
    for (Map.Entry<String, List<String>> kind : keysByKind.entrySet()) {
      HeaderCodec codec = codecs.get(kind.getKey());
      if (codec == null) {
        throw new IllegalArgumentException("no attribute kind '" + kind.getKey() + "' (known: "
            + String.join(", ", codecs.kinds()) + ")");
      }
      List<String> keys = kind.getValue();
      for (int n = 0; n < keys.size(); n++) {
        String key = keys.get(n);
        Object value = attributes.get(key);
        if (value == null) {
          continue;  // as WSGIProxy numbers them: the key's place in the list, present or not
        }
        byte[] bytes;
        try {
          bytes = codec.encode(value);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("attribute " + key + " as " + codec.kind() + ": " + e.getMessage(), e);
        }
        out.add(ProxyHeaders.WSGIPROXY_PREFIX + codec.kind() + "-" + n, encodeKey(key) + " " + escape(bytes));
      }
    }
  }

  /** Returns true if {@code name} is an attribute header, {@code X-WSGIProxy-<Kind>-<n>}. */
  public static boolean isAttributeHeader(String name) {
    return hasPrefix(name) && NAME.matcher(name).matches();
  }

  /** Returns true if {@code name} starts with {@code X-WSGIProxy-}: a cheap test before the pattern. */
  private static boolean hasPrefix(String name) {
    return name.regionMatches(true, 0, ProxyHeaders.WSGIPROXY_PREFIX, 0, ProxyHeaders.WSGIPROXY_PREFIX.length());
  }

  /**
   * Returns the attributes the headers carry, in header order.
   *
   * @param trusted whether the sender is authenticated; kinds that require it are refused otherwise
   * @throws ProxyStatusException 403 for a kind that requires a trusted sender when it is not,
   *     400 for an unknown kind or a value that does not decode, naming the header
   */
  public static Map<String, Object> decode(HttpHeaders headers, HeaderCodecs codecs, boolean trusted)
      throws ProxyStatusException {
    Map<String, Object> attributes = new LinkedHashMap<>();
    for (int i = 0; i < headers.size(); i++) {
      if (!hasPrefix(headers.name(i))) {
        continue;
      }
      Matcher name = NAME.matcher(headers.name(i));
      if (!name.matches()) {
        continue;
      }
      HeaderCodec codec = codecs.get(name.group(1));
      if (codec == null) {
        throw ProxyStatusException.badRequest(headers.name(i) + ": unknown attribute kind '" + name.group(1) + "'");
      }
      if (codec.requiresTrustedSender() && !trusted) {
        throw ProxyStatusException.forbidden(headers.name(i) + ": " + codec.kind() + " attributes are accepted "
            + "from a trusted sender only");
      }
      String value = headers.value(i);
      int space = value.indexOf(' ');
      try {
        String key = decodeKey(space < 0 ? value : value.substring(0, space));
        byte[] bytes = unescape(space < 0 ? "" : value.substring(space + 1));
        attributes.put(key, codec.decode(bytes));
      } catch (IllegalArgumentException e) {
        throw ProxyStatusException.badRequest(headers.name(i) + ": " + e.getMessage());
      }
    }
    return attributes;
  }

  /** Returns {@code bytes} as a header value: as they are if printable and unambiguous, else b64 + base64. */
  static String escape(byte[] bytes) {
    boolean plain = bytes.length == 0 || bytes[0] != ' ' && bytes[bytes.length - 1] != ' ';
    for (int i = 0; plain && i < bytes.length; i++) {
      plain = bytes[i] >= 0x20 && bytes[i] < 0x7f;
    }
    if (plain && bytes.length >= 3 && bytes[0] == 'b' && bytes[1] == '6' && bytes[2] == '4') {
      plain = false;
    }
    return plain ? new String(bytes, StandardCharsets.US_ASCII) : B64 + Base64.getEncoder().encodeToString(bytes);
  }

  /** Returns the bytes a header value stands for. */
  static byte[] unescape(String value) {
    if (value.startsWith(B64)) {
      try {
        return Base64.getDecoder().decode(value.substring(B64.length()));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("value is not valid base64 after b64");
      }
    }
    return value.getBytes(StandardCharsets.ISO_8859_1);
  }

  /** Percent-encodes {@code key} as UTF-8, keeping letters, digits and {@code -._~/}, as Python's quote does. */
  static String encodeKey(String key) {
    StringBuilder encoded = new StringBuilder();
    for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
      char c = (char) (b & 0xff);
      if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || "-._~/".indexOf(c) >= 0) {
        encoded.append(c);
      } else {
        encoded.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      }
    }
    return encoded.toString();
  }

  static String decodeKey(String encoded) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    for (int i = 0; i < encoded.length(); i++) {
      char c = encoded.charAt(i);
      if (c == '%') {
        int high = i + 2 < encoded.length() ? Character.digit(encoded.charAt(i + 1), 16) : -1;
        int low = i + 2 < encoded.length() ? Character.digit(encoded.charAt(i + 2), 16) : -1;
        if (high < 0 || low < 0) {
          throw new IllegalArgumentException("bad percent-encoding in the attribute key");
        }
        bytes.write(high << 4 | low);
        i += 2;
      } else {
        bytes.write(c);
      }
    }
    String key = new String(bytes.toByteArray(), StandardCharsets.UTF_8);
    if (key.isEmpty()) {
      throw new IllegalArgumentException("attribute key is empty");
    }
    return key;
  }
}
