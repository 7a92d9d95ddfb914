package org.proxykit.protocol.codecs;

/** What the text kinds accept. */
final class TextValues {
  private TextValues() {}

  static String text(Object value) {
    if (value instanceof CharSequence || value instanceof Number || value instanceof Boolean
        || value instanceof Character) {
      return value.toString();
    }
    throw new IllegalArgumentException("expected text, a number or a boolean, got a " + value.getClass().getName());
  }
}
