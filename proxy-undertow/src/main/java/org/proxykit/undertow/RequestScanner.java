package org.proxykit.undertow;

import java.nio.ByteBuffer;
import org.proxykit.api.Nullable;
import org.proxykit.api.ProxyStatusException;

/**
 * Follows the HTTP/1.x request stream of one connection byte by byte, as the client sent it,
 * and finds where each message ends: a head ends at its empty line, a body after its
 * Content-Length or at the end of its chunked framing, and then the next head begins. It
 * checks the syntax strictly (RFC 9112) and stops at the first violation, which it describes
 * as the refusal the client gets. It never changes bytes and allocates nothing per byte.
 *
 * <p>A head is refused for: a request line longer than {@code maxRequestLine} (414); a head
 * longer than {@code maxHeaderSize} or with more than {@code maxHeaders} fields (431); bare
 * CR or LF, NUL or another control character; a field line starting with white space
 * (obs-fold); white space before a colon; a byte above 0x7f in the request target; a
 * malformed request line or Content-Length (400);
 * a version other than HTTP/1.0 or 1.1 (505); framing that is ambiguous or unsupported (as
 * {@link FramingGuard} words it); a Content-Length over {@code maxBodySize} (413). A chunked
 * body is refused for a malformed or overflowing chunk size, bare CR or LF, chunk data not
 * followed by CRLF, a malformed trailer (400), or going over {@code maxBodySize} (413; a
 * chunked body counts with its framing, as Undertow counts it, and a chunk is refused at the
 * digit of its size that takes it over).
 *
 * <p>After a CONNECT head, or the HTTP/2 connection preface {@code PRI * HTTP/2.0}, the bytes
 * belong to another protocol: it lets everything through unread from there on.
 *
 * <p>Not thread-safe: one reader at a time, as a connection's bytes are read.
 */
final class RequestScanner {
  private static final boolean[] TCHAR = new boolean[256];
  private static final byte[] CONNECT = {'C', 'O', 'N', 'N', 'E', 'C', 'T'};
  private static final byte[] PRI = {'P', 'R', 'I'};

  private boolean tunnel;
  private static final byte[] CONTENT_LENGTH = "content-length".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  private static final byte[] TRANSFER_ENCODING = "transfer-encoding".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  private static final byte[] CHUNKED = {'c', 'h', 'u', 'n', 'k', 'e', 'd'};
  private static final int MAX_CHUNK_LINE = 4096;

  static {
    for (int c = '0'; c <= '9'; c++) {
      TCHAR[c] = true;
    }
    for (int c = 'a'; c <= 'z'; c++) {
      TCHAR[c] = true;
      TCHAR[c - 'a' + 'A'] = true;
    }
    for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
      TCHAR[c] = true;
    }
  }

  // where in the stream the next byte is
  private static final int START = 0;          // the first byte of a request line
  private static final int METHOD = 2;
  private static final int TARGET = 3;
  private static final int VERSION = 4;
  private static final int LINE_LF = 5;        // after the CR ending the request line
  private static final int FIELD_START = 6;    // first byte of a field line, or the CR of the empty line
  private static final int NAME = 7;
  private static final int VALUE = 8;
  private static final int FIELD_LF = 9;       // after the CR ending a field line
  private static final int HEAD_END_LF = 10;   // after the CR of the empty line ending the head
  private static final int LENGTH = 11;        // Content-Length body bytes
  private static final int CHUNK_SIZE = 12;
  private static final int CHUNK_EXT = 13;
  private static final int CHUNK_SIZE_LF = 14;
  private static final int CHUNK_DATA = 15;
  private static final int CHUNK_DATA_CR = 16;
  private static final int CHUNK_DATA_LF = 17;
  private static final int TRAILER_START = 18;
  private static final int TRAILER_NAME = 19;
  private static final int TRAILER_VALUE = 20;
  private static final int TRAILER_LF = 21;
  private static final int TRAILER_END_LF = 22;
  private static final int PASSTHROUGH = 23;
  private static final int STOPPED = 24;       // after a violation

  private final int maxRequestLine;
  private final long maxHeaderSize;
  private final int maxHeaders;
  private final long maxBodySize;

  private int state = START;
  private int headStart = -1;
  private @Nullable ProxyStatusException violation;
  private boolean violationInHead;

  // the head being read
  private long headBytes;
  private int lineBytes;
  private int fields;
  private int methodLength;
  private boolean methodConnect;
  private boolean methodPri;
  private int targetLength;
  private boolean targetStar;
  private int versionLength;
  private int major;
  private int minor;
  private boolean versionValid;
  private int nameLength;
  private boolean nameContentLength;
  private boolean nameTransferEncoding;
  private int lengthPart;            // 0 before digits, 1 in digits, 2 after digits of a Content-Length element
  private long lengthValue;
  private int lengthDigits;
  private long contentLength;
  private boolean lengthBad;
  private int encodingPart;          // 0 leading white space, 1 matching "chunked", 2 trailing white space, 3 other
  private int encodingMatched;
  private int encodings;
  private boolean encodingChunked;

  // the body being read
  private long remaining;
  private long chunkSize;
  private int chunkDigits;
  private int chunkLine;
  private long bodyBytes;
  private long trailerBytes;

  RequestScanner(int maxRequestLine, long maxHeaderSize, int maxHeaders, long maxBodySize) {
    this.maxRequestLine = maxRequestLine;
    this.maxHeaderSize = maxHeaderSize;
    this.maxHeaders = maxHeaders;
    this.maxBodySize = maxBodySize;
    resetHead();
  }

  /** Returns true between the first byte of a head and its end. */
  boolean inHead() {
    return state <= HEAD_END_LF && headStart >= 0;
  }

  /** Returns true while a request body is being read. */
  boolean inBody() {
    return state >= LENGTH && state <= TRAILER_END_LF;
  }

  /** Returns true once the connection speaks another protocol (CONNECT, HTTP/2). */
  boolean passthrough() {
    return state == PASSTHROUGH;
  }

  /** Returns true once the connection is a CONNECT tunnel (whose own idle timeout bounds it). */
  boolean tunnel() {
    return state == PASSTHROUGH && tunnel;
  }

  /**
   * Returns the index, in the buffer last scanned, of the first byte of the head that is not
   * complete yet (while {@link #inHead()}), or of the head that was refused.
   */
  int headStart() {
    return headStart;
  }

  /** Tells the scanner that the bytes of the incomplete head moved by {@code delta} in their buffer. */
  void moveHead(int delta) {
    headStart += delta;
  }

  /** Returns the first violation, or null while the stream is sound. */
  @Nullable ProxyStatusException violation() {
    return violation;
  }

  /** Returns true if the violation is in a request head, false if in a body. */
  boolean violationInHead() {
    return violationInHead;
  }

  /**
   * Scans {@code buffer} from index {@code from} to {@code to} (absolute indexes; its position
   * and limit are not used). Returns {@code to}, or the index of the byte that violates the
   * syntax (then {@link #violation()} says what, and nothing more is scanned).
   */
  int scan(ByteBuffer buffer, int from, int to) {
    int i = from;
    while (i < to) {
      switch (state) {
        case PASSTHROUGH:
          return to;
        case STOPPED:
          return i;
        case LENGTH: {
          long step = Math.min(remaining, to - i);
          remaining -= step;
          i += (int) step;
          if (remaining == 0) {
            messageEnd();
          }
          continue;
        }
        case CHUNK_DATA: {
          long step = Math.min(remaining, to - i);
          remaining -= step;
          bodyBytes += step;
          i += (int) step;
          if (remaining == 0) {
            state = CHUNK_DATA_CR;
          }
          continue;
        }
        default:
          break;
      }
      int c = buffer.get(i) & 0xff;
      boolean ok = state < LENGTH ? head(c, i) : body(c);
      if (!ok) {
        state = STOPPED;
        return i;
      }
      i++;
    }
    return to;
  }

  // ---- the head

  private boolean head(int c, int at) {
    if (headStart < 0) {
      headStart = at;
    }
    if (++headBytes > maxHeaderSize) {
      return state <= LINE_LF ? refuseLine() : refuseHead(431, "request header fields are larger than "
          + maxHeaderSize + " bytes");
    }
    switch (state) {
      case START:
        if (c == '\r' || c == '\n') {
          // RFC 9112 lets a server skip it; Undertow's parser would not, so it is refused here with a reason
          return refuseHead(400, "empty line before the request line");
        }
        if (!TCHAR[c]) {
          return c == '\n' ? refuseHead(400, "bare LF in the request head") : refuseHead(400, "malformed request line");
        }
        state = METHOD;
        lineBytes = 1;
        return method(c);
      case METHOD:
        if (++lineBytes > maxRequestLine) {
          return refuseLine();
        }
        if (c == ' ') {
          state = TARGET;
          return true;
        }
        return TCHAR[c] ? method(c) : lineControl(c, "malformed request line");
      case TARGET:
        if (++lineBytes > maxRequestLine) {
          return refuseLine();
        }
        if (c == ' ') {
          if (targetLength == 0) {
            return refuseHead(400, "malformed request line");
          }
          state = VERSION;
          return true;
        }
        if (c <= 0x20 || c == 0x7f) {
          return lineControl(c, "control character or white space in the request target");
        }
        if (c >= 0x80) {
          return refuseHead(400, "request target must be ASCII (percent-encode other bytes)");
        }
        targetStar = targetLength == 0 && c == '*';
        targetLength++;
        return true;
      case VERSION:
        if (c == '\r') {
          state = LINE_LF;
          return true;
        }
        if (++lineBytes > maxRequestLine) {
          return refuseLine();
        }
        return version(c) || lineControl(c, "malformed HTTP version");
      case LINE_LF:
        if (c != '\n') {
          return refuseHead(400, "bare CR in the request head");
        }
        if (!versionValid || versionLength != 8) {
          return refuseHead(400, "malformed HTTP version");
        }
        if ((major != 1 || minor > 1) && !preface()) {
          return refuseHead(505, "HTTP version not supported");
        }
        state = FIELD_START;
        return true;
      case FIELD_START:
        if (c == '\r') {
          state = HEAD_END_LF;
          return true;
        }
        if (c == ' ' || c == '\t') {
          return refuseHead(400, "header line starts with white space (obs-fold)");
        }
        if (!TCHAR[c]) {
          return c == '\n' ? refuseHead(400, "bare LF in the request head") : refuseHead(400, "bad header field name");
        }
        if (++fields > maxHeaders) {
          return refuseHead(431, "more than " + maxHeaders + " header fields");
        }
        state = NAME;
        nameLength = 0;
        nameContentLength = true;
        nameTransferEncoding = true;
        return name(c);
      case NAME:
        if (c == ':') {
          state = VALUE;
          lengthPart = 0;
          encodingPart = 0;
          encodingMatched = 0;
          return true;
        }
        if (TCHAR[c]) {
          return name(c);
        }
        if (c == ' ' || c == '\t') {
          return refuseHead(400, "white space before a colon");
        }
        return c == '\n' ? refuseHead(400, "bare LF in the request head")
            : c == '\r' ? refuseHead(400, "bare CR in the request head") : refuseHead(400, "bad header field name");
      case VALUE:
        if (c == '\r') {
          state = FIELD_LF;
          return true;
        }
        if (c < 0x20 && c != '\t' || c == 0x7f) {
          return c == '\n' ? refuseHead(400, "bare LF in the request head")
              : refuseHead(400, "control character in a header field");
        }
        if (nameContentLength && nameLength == CONTENT_LENGTH.length) {
          lengthChar(c);
        } else if (nameTransferEncoding && nameLength == TRANSFER_ENCODING.length) {
          encodingChar(c);
        }
        return true;
      case FIELD_LF:
        if (c != '\n') {
          return refuseHead(400, "bare CR in the request head");
        }
        if (nameContentLength && nameLength == CONTENT_LENGTH.length) {
          lengthEnd();
        } else if (nameTransferEncoding && nameLength == TRANSFER_ENCODING.length) {
          encodings++;
          encodingChunked = encodingPart == 2 || encodingPart == 1 && encodingMatched == CHUNKED.length;
        }
        state = FIELD_START;
        return true;
      case HEAD_END_LF:
        return c == '\n' ? headEnd() : refuseHead(400, "bare CR in the request head");
      default:
        throw new IllegalStateException("state " + state);
    }
  }

  /** Returns true if the request line is {@code PRI * HTTP/2.0}, which starts HTTP/2's connection preface. */
  private boolean preface() {
    return methodPri && methodLength == PRI.length && targetStar && targetLength == 1 && major == 2 && minor == 0;
  }

  private boolean method(int c) {
    methodConnect &= methodLength < CONNECT.length && CONNECT[methodLength] == c;
    methodPri &= methodLength < PRI.length && PRI[methodLength] == c;
    methodLength++;
    return true;
  }

  private boolean version(int c) {
    int at = versionLength++;
    if (at < 5) {
      versionValid &= "HTTP/".charAt(at) == c;
    } else if (at == 5) {
      versionValid &= c >= '0' && c <= '9';
      major = c - '0';
    } else if (at == 6) {
      versionValid &= c == '.';
    } else if (at == 7) {
      versionValid &= c >= '0' && c <= '9';
      minor = c - '0';
    } else {
      versionValid = false;
    }
    return c > 0x20 && c != 0x7f;
  }

  private boolean lineControl(int c, String otherwise) {
    if (c == '\n') {
      return refuseHead(400, "bare LF in the request head");
    }
    if (c == '\r') {
      return refuseHead(400, "bare CR in the request head");
    }
    if (c < 0x20 || c == 0x7f) {
      return refuseHead(400, "control character in the request line");
    }
    return refuseHead(400, otherwise);
  }

  private boolean name(int c) {
    int lower = c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
    nameContentLength &= nameLength < CONTENT_LENGTH.length && CONTENT_LENGTH[nameLength] == lower;
    nameTransferEncoding &= nameLength < TRANSFER_ENCODING.length && TRANSFER_ENCODING[nameLength] == lower;
    nameLength++;
    return true;
  }

  /** Reads a Content-Length value as a list of equal decimal lengths, as {@link FramingGuard} does. */
  private void lengthChar(int c) {
    if (c >= '0' && c <= '9') {
      if (lengthPart == 2) {
        lengthBad = true;
      } else if (lengthPart == 0) {
        lengthPart = 1;
        lengthValue = 0;
        lengthDigits = 0;
      }
      if (++lengthDigits > 18) {
        lengthBad = true;
      } else {
        lengthValue = lengthValue * 10 + (c - '0');
      }
    } else if (c == ' ' || c == '\t') {
      if (lengthPart == 1) {
        lengthPart = 2;
      }
    } else if (c == ',') {
      lengthElement();
      lengthPart = 0;
    } else {
      lengthBad = true;
    }
  }

  private void lengthEnd() {
    lengthElement();
  }

  private void lengthElement() {
    if (lengthPart == 0) {
      lengthBad = true;  // empty, or an empty element of a list
    } else if (contentLength >= 0 && contentLength != lengthValue) {
      lengthBad = true;
    } else {
      contentLength = lengthValue;
    }
  }

  private void encodingChar(int c) {
    boolean space = c == ' ' || c == '\t';
    switch (encodingPart) {
      case 0:
        if (!space) {
          encodingPart = 1;
          encodingChar(c);
        }
        return;
      case 1:
        int lower = c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
        if (encodingMatched < CHUNKED.length && CHUNKED[encodingMatched] == lower) {
          encodingMatched++;
        } else if (space && encodingMatched == CHUNKED.length) {
          encodingPart = 2;
        } else {
          encodingPart = 3;
        }
        return;
      case 2:
        if (!space) {
          encodingPart = 3;
        }
        return;
      default:
    }
  }

  private boolean headEnd() {
    boolean http10 = major == 1 && minor == 0;
    if (preface()) {
      state = PASSTHROUGH;
      headStart = -1;
      return true;
    }
    if (lengthBad) {
      return refuseHead(400, "bad Content-Length");
    }
    if (maxBodySize > 0 && contentLength > maxBodySize) {
      return refuseHead(413, "request body is larger than the server allows");
    }
    if (encodings > 0) {
      if (http10) {
        return refuseHead(400, "Transfer-Encoding in an HTTP/1.0 request");
      }
      if (contentLength >= 0) {
        return refuseHead(400, "both Content-Length and Transfer-Encoding");
      }
      if (encodings != 1 || !encodingChunked) {
        return refuseHead(501, "only Transfer-Encoding: chunked is supported");
      }
    }
    boolean connect = methodConnect && methodLength == CONNECT.length;
    headStart = -1;
    if (connect) {
      state = PASSTHROUGH;
      tunnel = true;
    } else if (encodings > 0) {
      state = CHUNK_SIZE;
      chunkSize = 0;
      chunkDigits = 0;
      chunkLine = 0;
      bodyBytes = 0;
    } else if (contentLength > 0) {
      state = LENGTH;
      remaining = contentLength;
    } else {
      messageEnd();
    }
    return true;
  }

  private boolean refuseLine() {
    return refuseHead(414, "request line is longer than " + Math.min(maxRequestLine, maxHeaderSize) + " bytes");
  }

  private boolean refuseHead(int status, String reason) {
    violation = new ProxyStatusException(status, reason);
    violationInHead = true;
    return false;
  }

  // ---- the body

  private boolean body(int c) {
    if (maxBodySize > 0 && ++bodyBytes > maxBodySize) {
      return refuseBody(413, "request body is larger than the server allows");
    }
    switch (state) {
      case CHUNK_SIZE:
        if (++chunkLine > MAX_CHUNK_LINE) {
          return refuseBody(400, "chunk size line is longer than " + MAX_CHUNK_LINE + " bytes");
        }
        int digit = hex(c);
        if (digit >= 0) {
          if (chunkSize > (Long.MAX_VALUE >>> 4)) {
            return refuseBody(400, "chunk size is too large");
          }
          chunkSize = chunkSize << 4 | digit;
          chunkDigits++;
          if (maxBodySize > 0 && chunkSize > maxBodySize - bodyBytes) {
            // refused at this digit, so Undertow (which counts too, and would close without a word) never sees it all
            return refuseBody(413, "request body is larger than the server allows");
          }
          return true;
        }
        if (chunkDigits == 0) {
          return chunkedControl(c, "bad chunk size");
        }
        if (c == ';') {
          state = CHUNK_EXT;
          return true;
        }
        if (c == '\r') {
          state = CHUNK_SIZE_LF;
          return true;
        }
        return chunkedControl(c, "bad chunk size");
      case CHUNK_EXT:
        if (++chunkLine > MAX_CHUNK_LINE) {
          return refuseBody(400, "chunk size line is longer than " + MAX_CHUNK_LINE + " bytes");
        }
        if (c == '\r') {
          state = CHUNK_SIZE_LF;
          return true;
        }
        return c >= 0x20 && c != 0x7f || c == '\t' || chunkedControl(c, "bad chunk extension");
      case CHUNK_SIZE_LF:
        if (c != '\n') {
          return refuseBody(400, "bare CR in chunked framing");
        }
        if (chunkSize == 0) {
          state = TRAILER_START;
          trailerBytes = 0;
          return true;
        }
        state = CHUNK_DATA;
        remaining = chunkSize;
        return true;
      case CHUNK_DATA_CR:
        if (c != '\r') {
          return refuseBody(400, "chunk data not followed by CRLF");
        }
        state = CHUNK_DATA_LF;
        return true;
      case CHUNK_DATA_LF:
        if (c != '\n') {
          return refuseBody(400, "chunk data not followed by CRLF");
        }
        state = CHUNK_SIZE;
        chunkSize = 0;
        chunkDigits = 0;
        chunkLine = 0;
        return true;
      default:
        return trailer(c);
    }
  }

  private boolean trailer(int c) {
    if (++trailerBytes > maxHeaderSize) {
      return refuseBody(400, "trailer fields are larger than " + maxHeaderSize + " bytes");
    }
    switch (state) {
      case TRAILER_START:
        if (c == '\r') {
          state = TRAILER_END_LF;
          return true;
        }
        if (c == ' ' || c == '\t') {
          return refuseBody(400, "trailer line starts with white space (obs-fold)");
        }
        if (!TCHAR[c]) {
          return chunkedControl(c, "bad trailer field");
        }
        state = TRAILER_NAME;
        return true;
      case TRAILER_NAME:
        if (c == ':') {
          state = TRAILER_VALUE;
          return true;
        }
        return TCHAR[c] || chunkedControl(c, "bad trailer field");
      case TRAILER_VALUE:
        if (c == '\r') {
          state = TRAILER_LF;
          return true;
        }
        return c >= 0x20 && c != 0x7f || c == '\t' || chunkedControl(c, "control character in a trailer field");
      case TRAILER_LF:
        if (c != '\n') {
          return refuseBody(400, "bare CR in chunked framing");
        }
        state = TRAILER_START;
        return true;
      case TRAILER_END_LF:
        if (c != '\n') {
          return refuseBody(400, "bare CR in chunked framing");
        }
        messageEnd();
        return true;
      default:
        throw new IllegalStateException("state " + state);
    }
  }

  private boolean chunkedControl(int c, String otherwise) {
    if (c == '\n') {
      return refuseBody(400, "bare LF in chunked framing");
    }
    return refuseBody(400, otherwise);
  }

  private static int hex(int c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }

  private boolean refuseBody(int status, String reason) {
    violation = new ProxyStatusException(status, reason);
    violationInHead = false;
    return false;
  }

  private void messageEnd() {
    state = START;
    resetHead();
  }

  private void resetHead() {
    headStart = -1;
    headBytes = 0;
    lineBytes = 0;
    fields = 0;
    methodLength = 0;
    methodConnect = true;
    methodPri = true;
    targetLength = 0;
    targetStar = false;
    versionLength = 0;
    versionValid = true;
    major = 0;
    minor = 0;
    contentLength = -1;
    lengthBad = false;
    encodings = 0;
    encodingChunked = false;
  }
}
