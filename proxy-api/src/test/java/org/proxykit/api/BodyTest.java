package org.proxykit.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BodyTest {

  @Test
  void emptyAndByteBodiesAreRepeatable() throws IOException {
    assertEquals(0, Body.empty().length());
    assertEquals(-1, Body.empty().open().read());
    Body body = Body.of("h\u00e9");
    assertEquals(3, body.length());
    assertTrue(body.isRepeatable());
    assertArrayEquals("h\u00e9".getBytes(StandardCharsets.UTF_8), body.open().readAllBytes());
    assertArrayEquals("h\u00e9".getBytes(StandardCharsets.UTF_8), body.open().readAllBytes());
  }

  @Test
  void streamBodyIsReadOnce() throws IOException {
    Body body = Body.of(new ByteArrayInputStream(new byte[] {1, 2, 3}), 3);
    assertFalse(body.isRepeatable());
    assertArrayEquals(new byte[] {1, 2, 3}, body.open().readAllBytes());
    IllegalStateException e = assertThrows(IllegalStateException.class, body::open);
    assertEquals("body was already opened: a stream body is read once", e.getMessage());
  }

  @Test
  void streamBodyEndingBeforeItsLengthFailsInsteadOfLookingComplete() {
    Body body = Body.of(new ByteArrayInputStream(new byte[] {1, 2}), 5);
    EOFException e = assertThrows(EOFException.class, () -> body.open().readAllBytes());
    assertEquals("body ended after 2 of 5 bytes", e.getMessage());
  }

  @Test
  void streamBodyNeverReadsPastItsLength() throws IOException {
    ByteArrayInputStream source = new ByteArrayInputStream(new byte[] {1, 2, 3, 4, 5});
    Body body = Body.of(source, 3);
    assertArrayEquals(new byte[] {1, 2, 3}, body.open().readAllBytes());
    assertEquals(2, source.available(), "the bytes after the body stay in the source");
  }

  @Test
  void unknownLengthReadsToTheEnd() throws IOException {
    Body body = Body.of(new ByteArrayInputStream(new byte[] {9, 8}), -1);
    assertEquals(-1, body.length());
    assertArrayEquals(new byte[] {9, 8}, body.open().readAllBytes());
    assertThrows(IllegalArgumentException.class, () -> Body.of(InputStream.nullInputStream(), -2));
  }

  @Test
  void closingAStreamBodyClosesItsSource() throws IOException {
    boolean[] closed = {false};
    InputStream source = new ByteArrayInputStream(new byte[10]) {
      @Override
      public void close() {
        closed[0] = true;
      }
    };
    Body.of(source, 10).close();
    assertTrue(closed[0]);
  }

  @Test
  void fileBodyHasTheFileLengthAndIsRepeatable(@TempDir Path dir) throws IOException {
    Path file = Files.write(dir.resolve("upload.bin"), new byte[] {7, 7, 7, 7});
    Body body = Body.of(file);
    assertEquals(4, body.length());
    assertTrue(body.isRepeatable());
    assertArrayEquals(new byte[] {7, 7, 7, 7}, body.open().readAllBytes());
    assertArrayEquals(new byte[] {7, 7, 7, 7}, body.open().readAllBytes());
    IOException e = assertThrows(IOException.class, () -> Body.of(dir.resolve("missing")));
    assertTrue(e.getMessage().startsWith("not a readable file"));
  }
}
