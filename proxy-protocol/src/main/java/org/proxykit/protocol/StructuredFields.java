package org.proxykit.protocol;

import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The part of RFC 8941 Structured Fields that Signature-Input and Signature need: a
 * dictionary whose members are inner lists of strings with parameters, or byte sequences.
 * Strict: anything else is an {@link IllegalArgumentException}.
 */
final class StructuredFields {
  private StructuredFields() {}

  /** One dictionary member: an inner list with parameters, or a byte sequence. */
  static final class Member {
    final List<String> items = new ArrayList<>();
    final Map<String, Object> params = new LinkedHashMap<>();
    byte[] bytes;
  }

  static String string(String value) {
    StringBuilder quoted = new StringBuilder("\"");
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < 0x20 || c > 0x7e) {
        throw new IllegalArgumentException("not an sf-string character: " + (int) c);
      }
      if (c == '"' || c == '\\') {
        quoted.append('\\');
      }
      quoted.append(c);
    }
    return quoted.append('"').toString();
  }

  static Map<String, Member> dictionary(String text) {
    Parser parser = new Parser(text);
    Map<String, Member> members = new LinkedHashMap<>();
    parser.spaces();
    while (!parser.done()) {
      String key = parser.key();
      parser.expect('=');
      Member member = new Member();
      if (parser.peek() == '(') {
        parser.next();
        parser.spaces();
        while (parser.peek() != ')') {
          member.items.add(parser.string());
          if (parser.peek() != ')') {
            parser.expect(' ');
            parser.spaces();
          }
        }
        parser.next();
      } else if (parser.peek() == ':') {
        member.bytes = parser.bytes();
      } else {
        throw new IllegalArgumentException("unexpected member value");
      }
      while (!parser.done() && parser.peek() == ';') {
        parser.next();
        String name = parser.key();
        parser.expect('=');
        char c = parser.peek();
        member.params.put(name, c == '"' ? parser.string() : c == '-' || Character.isDigit(c) ? parser.integer() : parser.token());
      }
      members.put(key, member);
      parser.ows();
      if (!parser.done()) {
        parser.expect(',');
        parser.ows();
      }
    }
    return members;
  }

  private static final class Parser {
    private final String text;
    private int at;

    Parser(String text) {
      this.text = text;
    }

    boolean done() {
      return at >= text.length();
    }

    char peek() {
      if (done()) {
        throw new IllegalArgumentException("unexpected end");
      }
      return text.charAt(at);
    }

    char next() {
      char c = peek();
      at++;
      return c;
    }

    void expect(char c) {
      if (next() != c) {
        throw new IllegalArgumentException("expected '" + c + "' at " + (at - 1));
      }
    }

    void spaces() {
      while (!done() && text.charAt(at) == ' ') {
        at++;
      }
    }

    void ows() {
      while (!done() && (text.charAt(at) == ' ' || text.charAt(at) == '\t')) {
        at++;
      }
    }

    String key() {
      int start = at;
      char first = peek();
      if (!(first >= 'a' && first <= 'z' || first == '*')) {
        throw new IllegalArgumentException("bad key at " + at);
      }
      while (!done() && "abcdefghijklmnopqrstuvwxyz0123456789_-.*".indexOf(text.charAt(at)) >= 0) {
        at++;
      }
      return text.substring(start, at);
    }

    String string() {
      expect('"');
      StringBuilder value = new StringBuilder();
      while (true) {
        char c = next();
        if (c == '"') {
          return value.toString();
        }
        if (c == '\\') {
          c = next();
          if (c != '"' && c != '\\') {
            throw new IllegalArgumentException("bad escape at " + at);
          }
        } else if (c < 0x20 || c > 0x7e) {
          throw new IllegalArgumentException("bad string character at " + at);
        }
        value.append(c);
      }
    }

    Long integer() {
      int start = at;
      if (peek() == '-') {
        at++;
      }
      while (!done() && Character.isDigit(text.charAt(at))) {
        at++;
      }
      String digits = text.substring(start, at);
      if (digits.isEmpty() || digits.equals("-") || digits.length() > 16) {
        throw new IllegalArgumentException("bad integer at " + start);
      }
      return Long.parseLong(digits);
    }

    String token() {
      int start = at;
      while (!done() && text.charAt(at) > 0x20 && ",;()\"".indexOf(text.charAt(at)) < 0) {
        at++;
      }
      if (start == at) {
        throw new IllegalArgumentException("bad parameter value at " + start);
      }
      return text.substring(start, at);
    }

    byte[] bytes() {
      expect(':');
      int end = text.indexOf(':', at);
      if (end < 0) {
        throw new IllegalArgumentException("unterminated byte sequence");
      }
      String base64 = text.substring(at, end);
      at = end + 1;
      return Base64.getDecoder().decode(base64);
    }
  }
}
