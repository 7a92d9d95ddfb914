package org.proxykit.undertow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.proxykit.api.ProxyResponse;
import org.proxykit.api.ProxyStatusException;

/** Mount prefixes match segments as servers behind the proxy read them, and keep the raw path. */
class MountTableTest {
  private static final MountTable MOUNTS = new MountTable(List.of(
      new MountTable.Entry("/", request -> ProxyResponse.builder().build()),
      new MountTable.Entry("/app", request -> ProxyResponse.builder().build()),
      new MountTable.Entry("/app/deep", request -> ProxyResponse.builder().build())));

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "/app/x            | /app        | /x",
      "//app/x           | //app       | /x",
      "/app//deep/x      | /app//deep  | /x",
      "/%61pp/x          | /%61pp      | /x",
      "/app;jsessionid=1 | /app;jsessionid=1 | ''",
      "/app;a=b/deep;c/x | /app;a=b/deep;c | /x",
      "/apple            | ''          | /apple",
      "/APP/x            | ''          | /APP/x",
      "/                 | ''          | /",
  })
  void prefixesMatchWhatBackendsReadAndScriptNameIsTheRawText(String path, String scriptName, String pathInfo)
      throws Exception {
    MountTable.Match match = MOUNTS.match(path);
    assertEquals(scriptName, match.scriptName());
    assertEquals(pathInfo, match.pathInfo());
  }

  @ParameterizedTest
  @CsvSource({"/app%2Fdeep/x", "/app%5cx", "/%61pp%2f"})
  void anEncodedSeparatorRightAfterAPrefixSegmentIsRefused(String path) {
    assertEquals(400, assertThrows(ProxyStatusException.class, () -> MOUNTS.match(path)).status());
  }

  @ParameterizedTest
  @CsvSource({"/x", "/"})
  void withoutARootMountNothingElseMatches(String path) throws Exception {
    MountTable only = new MountTable(List.of(new MountTable.Entry("/app", request -> ProxyResponse.builder().build())));
    assertNull(only.match(path));
  }
}
