package org.proxykit.exact;

import java.io.IOException;
import java.io.InputStream;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ConnectionClosedException;
import org.apache.hc.core5.http.HttpException;
import org.apache.hc.core5.http.MessageConstraintException;
import org.apache.hc.core5.http.NoHttpResponseException;
import org.apache.hc.core5.http.ProtocolException;
import org.apache.hc.core5.http.impl.io.DefaultClassicHttpResponseFactory;
import org.apache.hc.core5.http.io.HttpMessageParser;
import org.apache.hc.core5.http.io.HttpMessageParserFactory;
import org.apache.hc.core5.http.io.SessionInputBuffer;
import org.apache.hc.core5.http.message.BasicLineParser;
import org.apache.hc.core5.http.message.StatusLine;
import org.apache.hc.core5.util.CharArrayBuffer;

/**
 * Reads a response head for the {@code httpclient5} transport exactly as RFC 9112 section 2
 * writes it. HttpClient's own parser also ends a line at a bare LF, merges folded lines
 * (obs-fold) and skips lines before the status line: each lets an upstream, or whatever
 * sits in front of it, make this proxy see a head other than the one a stricter hop sees.
 *
 * <p>Here the status line comes first and is {@code HTTP/d.d ddd}, then optionally a space
 * and a reason phrase; every line ends in CRLF; no line holds a control character other than
 * HTAB (so no bare CR, LF or NUL); a header line does not start with white space; a line is
 * at most {@link Upstream#MAX_RESPONSE_LINE} bytes without its CRLF, and a head has at most
 * {@link Upstream#MAX_RESPONSE_HEADERS} header lines. Bytes are read as ISO-8859-1.
 *
 * <p>Failure: {@link NoHttpResponseException} if the connection ends before the first byte
 * (the request was never answered, so an idempotent one may be sent again);
 * {@link ConnectionClosedException} if it ends inside the head; {@link ProtocolException} or
 * {@link MessageConstraintException} for anything above, which the transport answers with
 * 502 and the generic reason. HttpClient then discards the connection, so no byte after a
 * refused head is read as a response.
 *
 * <p>HttpClient makes one parser per connection and calls it from the thread that holds the
 * connection, once for each response head, 1xx included. The parser keeps one line buffer
 * between heads and allocates nothing else but the response and its headers.
 */
final class StrictResponseParser implements HttpMessageParser<ClassicHttpResponse> {
  /** Makes one parser per connection; HttpClient's line and count limits are not used. */
  static final HttpMessageParserFactory<ClassicHttpResponse> FACTORY = http1Config -> new StrictResponseParser();

  /** A line buffer grown past this (by long header lines) is dropped after the head, not kept for the connection's life. */
  private static final int KEPT_LINE_CAPACITY = 8 * 1024;
  private static final int CR = '\r';
  private static final int LF = '\n';

  private CharArrayBuffer line = new CharArrayBuffer(256);

  @Override
  public ClassicHttpResponse parse(SessionInputBuffer buffer, InputStream in) throws IOException, HttpException {
    try {
      int first = buffer.read(in);
      if (first < 0) {
        throw new NoHttpResponseException("upstream closed the connection without an answer");
      }
      readLine(first, buffer, in);
      ClassicHttpResponse response = statusLine();
      for (int count = 0; ; count++) {
        readLine(buffer.read(in), buffer, in);
        if (line.isEmpty()) {
          return response;
        }
        if (count == Upstream.MAX_RESPONSE_HEADERS) {
          throw new MessageConstraintException("response has more than " + Upstream.MAX_RESPONSE_HEADERS + " header lines");
        }
        char start = line.charAt(0);
        if (start == ' ' || start == '\t') {
          throw new ProtocolException("response has a folded header line (obs-fold)");
        }
        response.addHeader(BasicLineParser.INSTANCE.parseHeader(line));
      }
    } finally {
      if (line.capacity() > KEPT_LINE_CAPACITY) {
        line = new CharArrayBuffer(256);
      }
    }
  }

  /** Reads the line that starts with byte {@code b} into {@link #line}, without its CRLF. */
  private void readLine(int b, SessionInputBuffer buffer, InputStream in) throws IOException, ProtocolException {
    line.clear();
    for (; ; b = buffer.read(in)) {
      if (b < 0) {
        throw new ConnectionClosedException("upstream closed the connection inside the response head");
      }
      if (b < 0x20 && b != '\t' || b == 0x7f) {
        if (b == CR) {
          int next = buffer.read(in);
          if (next == LF) {
            return;
          }
          if (next < 0) {
            throw new ConnectionClosedException("upstream closed the connection inside the response head");
          }
          throw new ProtocolException("response head has a bare CR");
        }
        throw new ProtocolException(b == LF ? "response head has a line ending in a bare LF"
            : "response head has the control character 0x" + Integer.toHexString(b));
      }
      if (line.length() == Upstream.MAX_RESPONSE_LINE) {
        throw new MessageConstraintException("response head has a line longer than " + Upstream.MAX_RESPONSE_LINE);
      }
      line.append((char) b);
    }
  }

  /** Returns a response made from {@link #line}, if it is a status line. */
  private ClassicHttpResponse statusLine() throws ProtocolException {
    if (!isStatusLine(line)) {
      throw new ProtocolException("response does not start with a status line");
    }
    StatusLine status = BasicLineParser.INSTANCE.parseStatusLine(line);
    ClassicHttpResponse response =
        DefaultClassicHttpResponseFactory.INSTANCE.newHttpResponse(status.getStatusCode(), status.getReasonPhrase());
    response.setVersion(status.getProtocolVersion());
    return response;
  }

  /** Returns true if {@code line} is {@code HTTP/d.d ddd}, the code 100-999, then nothing or a space. */
  private static boolean isStatusLine(CharArrayBuffer line) {
    int length = line.length();
    return length >= 12 && startsWithHttp(line) && isDigit(line.charAt(5)) && line.charAt(6) == '.'
        && isDigit(line.charAt(7)) && line.charAt(8) == ' ' && line.charAt(9) >= '1' && line.charAt(9) <= '9'
        && isDigit(line.charAt(10)) && isDigit(line.charAt(11)) && (length == 12 || line.charAt(12) == ' ');
  }

  private static boolean startsWithHttp(CharArrayBuffer line) {
    return line.charAt(0) == 'H' && line.charAt(1) == 'T' && line.charAt(2) == 'T' && line.charAt(3) == 'P'
        && line.charAt(4) == '/';
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }
}
