package org.proxykit.api;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * HTTP header fields, as received or to be sent: ordered, with case-insensitive names
 * (the spelling given is kept for sending), and any number of values per name. Immutable;
 * build one with {@link #builder()} or change a copy with {@link #toBuilder()}.
 *
 * <p>Only what HTTP allows gets in: a name must be a token (RFC 9110 section 5.1), a value
 * may hold visible characters, space, tab and bytes 0x80-0xFF, never CR, LF, NUL or another
 * control character. Anything else is an {@link IllegalArgumentException} naming the field,
 * so a header can never be used to split a message.
 *
 * <p>Lookups scan the fields: a message has a few dozen of them at most.
 *
 * @since 0.1
 */
public final class HttpHeaders {
  private static final HttpHeaders EMPTY = new HttpHeaders(new String[0]);

  /** Names and values, alternating: name0, value0, name1, value1, ... */
  private final String[] namesAndValues;

  private HttpHeaders(String[] namesAndValues) {
    this.namesAndValues = namesAndValues;
  }

  /** Returns headers with no field. */
  public static HttpHeaders empty() {
    return EMPTY;
  }

  /**
   * Returns headers holding the given fields in order, for example
   * {@code HttpHeaders.of("Accept", "text/html", "Accept", "text/plain")}.
   *
   * @throws IllegalArgumentException if the count is odd or a name or value is not legal
   */
  public static HttpHeaders of(String... namesAndValues) {
    if (namesAndValues.length % 2 != 0) {
      throw new IllegalArgumentException("expected name, value pairs, got an odd number of strings");
    }
    Builder builder = builder();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      builder.add(namesAndValues[i], namesAndValues[i + 1]);
    }
    return builder.build();
  }

  /** Returns an empty builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** Returns a builder holding these fields, to make a changed copy. */
  public Builder toBuilder() {
    Builder builder = new Builder();
    builder.unchanged = this;
    return builder;
  }

  /** Returns the number of fields (a name with two values counts twice). */
  public int size() {
    return namesAndValues.length / 2;
  }

  /** Returns true if there is no field. */
  public boolean isEmpty() {
    return namesAndValues.length == 0;
  }

  /** Returns the name of field {@code index}, as it was spelled when added. */
  public String name(int index) {
    return namesAndValues[index * 2];
  }

  /** Returns the value of field {@code index}. */
  public String value(int index) {
    return namesAndValues[index * 2 + 1];
  }

  /** Returns the first value of {@code name} (any case), or null if there is none. */
  public @Nullable String first(String name) {
    for (int i = 0; i < namesAndValues.length; i += 2) {
      if (name.equalsIgnoreCase(namesAndValues[i])) {
        return namesAndValues[i + 1];
      }
    }
    return null;
  }

  /** Returns every value of {@code name} (any case) in order; empty if there is none. */
  public List<String> all(String name) {
    List<String> values = null;
    for (int i = 0; i < namesAndValues.length; i += 2) {
      if (name.equalsIgnoreCase(namesAndValues[i])) {
        if (values == null) {
          values = new ArrayList<>(2);
        }
        values.add(namesAndValues[i + 1]);
      }
    }
    return values == null ? List.of() : Collections.unmodifiableList(values);
  }

  /** Returns true if at least one field is named {@code name} (any case). */
  public boolean contains(String name) {
    return first(name) != null;
  }

  /**
   * Returns the distinct names in order of first appearance, each spelled as it was the
   * first time; names differing only in case count once.
   */
  public Set<String> names() {
    Set<String> names = new LinkedHashSet<>();
    outer:
    for (int i = 0; i < namesAndValues.length; i += 2) {
      for (String seen : names) {
        if (seen.equalsIgnoreCase(namesAndValues[i])) {
          continue outer;
        }
      }
      names.add(namesAndValues[i]);
    }
    return Collections.unmodifiableSet(names);
  }

  /** Calls {@code action} with each field's name and value, in order. */
  public void forEach(BiConsumer<String, String> action) {
    for (int i = 0; i < namesAndValues.length; i += 2) {
      action.accept(namesAndValues[i], namesAndValues[i + 1]);
    }
  }

  /**
   * Returns the fields as a map from each name (first spelling) to its values, in order.
   * Handy for JSON and assertions.
   */
  public Map<String, List<String>> toMap() {
    Map<String, List<String>> map = new java.util.LinkedHashMap<>();
    for (String name : names()) {
      map.put(name, all(name));
    }
    return Collections.unmodifiableMap(map);
  }

  /** Headers are equal when they hold the same fields in the same order, names compared in any case. */
  @Override
  public boolean equals(@Nullable Object other) {
    if (!(other instanceof HttpHeaders)) {
      return false;
    }
    String[] theirs = ((HttpHeaders) other).namesAndValues;
    if (theirs.length != namesAndValues.length) {
      return false;
    }
    for (int i = 0; i < namesAndValues.length; i += 2) {
      if (!namesAndValues[i].equalsIgnoreCase(theirs[i]) || !namesAndValues[i + 1].equals(theirs[i + 1])) {
        return false;
      }
    }
    return true;
  }

  @Override
  public int hashCode() {
    int hash = 1;
    for (int i = 0; i < namesAndValues.length; i += 2) {
      hash = 31 * hash + namesAndValues[i].toLowerCase(java.util.Locale.ROOT).hashCode();
      hash = 31 * hash + namesAndValues[i + 1].hashCode();
    }
    return hash;
  }

  /** Returns the fields one per line, as on the wire. */
  @Override
  public String toString() {
    StringBuilder text = new StringBuilder();
    forEach((name, value) -> text.append(name).append(": ").append(value).append('\n'));
    return text.toString();
  }

  /**
   * Checks that {@code name} is an HTTP token.
   *
   * @throws IllegalArgumentException naming the problem if it is not
   */
  public static String checkName(String name) {
    Objects.requireNonNull(name, "header name");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("header name is empty");
    }
    for (int i = 0; i < name.length(); i++) {
      if (!isTokenChar(name.charAt(i))) {
        throw new IllegalArgumentException(
            "header name " + quote(name) + " has an illegal character at index " + i);
      }
    }
    return name;
  }

  /**
   * Checks that {@code value} may be sent as the value of header {@code name}.
   *
   * @throws IllegalArgumentException naming the header if it may not
   */
  public static String checkValue(String name, String value) {
    Objects.requireNonNull(value, () -> "value of header " + name);
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      boolean legal = c == '\t' || (c >= 0x20 && c != 0x7f && c <= 0xff);
      if (!legal) {
        throw new IllegalArgumentException("value of header " + name + " has an illegal character "
            + String.format("U+%04X", (int) c) + " at index " + i);
      }
    }
    return value;
  }

  /** Returns true if {@code c} is a tchar of RFC 9110. */
  static boolean isTokenChar(char c) {
    if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
      return true;
    }
    return "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
  }

  /** Quotes {@code text} for an error message, escaping what would not print. */
  static String quote(String text) {
    StringBuilder quoted = new StringBuilder("'");
    for (int i = 0; i < text.length() && i < 64; i++) {
      char c = text.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        quoted.append(String.format("\\x%02x", (int) c));
      } else {
        quoted.append(c);
      }
    }
    return quoted.append(text.length() > 64 ? "...'" : "'").toString();
  }

  /**
   * Collects header fields. Every method checks its input at once, so a bad field is
   * reported where it was added.
   */
  public static final class Builder {
    private final List<String> namesAndValues = new ArrayList<>();
    // the headers this builder copies, until the first change: an unchanged copy builds to
    // them again instead of to a new array (requests and responses are copied on every hop)
    private @Nullable HttpHeaders unchanged;

    private Builder() {}

    private List<String> fields() {
      if (unchanged != null) {
        namesAndValues.addAll(Arrays.asList(unchanged.namesAndValues));
        unchanged = null;
      }
      return namesAndValues;
    }

    /** Adds a field after the existing ones, keeping other values of the same name. */
    public Builder add(String name, String value) {
      List<String> fields = fields();
      fields.add(checkName(name));
      fields.add(checkValue(name, value));
      return this;
    }

    /** Adds every field of {@code headers}, in order. */
    public Builder addAll(HttpHeaders headers) {
      fields().addAll(Arrays.asList(headers.namesAndValues));
      return this;
    }

    /** Replaces every field named {@code name} with one field holding {@code value}. */
    public Builder set(String name, String value) {
      checkValue(checkName(name), value);
      remove(name);
      List<String> fields = fields();
      fields.add(name);
      fields.add(value);
      return this;
    }

    /** Removes every field named {@code name} (any case). */
    public Builder remove(String name) {
      if (unchanged != null && unchanged.first(name) == null) {
        return this;
      }
      List<String> fields = fields();
      for (int i = fields.size() - 2; i >= 0; i -= 2) {
        if (name.equalsIgnoreCase(fields.get(i))) {
          fields.remove(i + 1);
          fields.remove(i);
        }
      }
      return this;
    }

    /** Returns the first value of {@code name} added so far, or null. */
    public @Nullable String first(String name) {
      if (unchanged != null) {
        return unchanged.first(name);
      }
      for (int i = 0; i < namesAndValues.size(); i += 2) {
        if (name.equalsIgnoreCase(namesAndValues.get(i))) {
          return namesAndValues.get(i + 1);
        }
      }
      return null;
    }

    /** Returns immutable headers holding the fields added so far. */
    public HttpHeaders build() {
      if (unchanged != null) {
        return unchanged;
      }
      return namesAndValues.isEmpty() ? EMPTY : new HttpHeaders(namesAndValues.toArray(new String[0]));
    }
  }
}
