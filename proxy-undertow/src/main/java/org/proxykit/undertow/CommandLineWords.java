package org.proxykit.undertow;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a command line into words the way a POSIX shell does for simple commands: white
 * space separates, single quotes keep everything, double quotes keep all but {@code \"} and
 * {@code \\}, a backslash outside quotes escapes the next character. No variables, no globs.
 *
 * @since 0.1
 */
public final class CommandLineWords {
  private CommandLineWords() {}

  /**
   * Returns the words of {@code line}.
   *
   * @throws IllegalArgumentException if a quote is not closed
   */
  public static List<String> split(String line) {
    List<String> words = new ArrayList<>();
    StringBuilder word = new StringBuilder();
    boolean inWord = false;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (c == '\'') {
        int end = line.indexOf('\'', i + 1);
        if (end < 0) {
          throw new IllegalArgumentException("unclosed ' in command line");
        }
        word.append(line, i + 1, end);
        i = end;
        inWord = true;
      } else if (c == '"') {
        i++;
        while (i < line.length() && line.charAt(i) != '"') {
          if (line.charAt(i) == '\\' && i + 1 < line.length() && "\"\\".indexOf(line.charAt(i + 1)) >= 0) {
            i++;
          }
          word.append(line.charAt(i++));
        }
        if (i >= line.length()) {
          throw new IllegalArgumentException("unclosed \" in command line");
        }
        inWord = true;
      } else if (c == '\\' && i + 1 < line.length()) {
        word.append(line.charAt(++i));
        inWord = true;
      } else if (Character.isWhitespace(c)) {
        if (inWord) {
          words.add(word.toString());
          word.setLength(0);
          inWord = false;
        }
      } else {
        word.append(c);
        inWord = true;
      }
    }
    if (inWord) {
      words.add(word.toString());
    }
    return words;
  }
}
