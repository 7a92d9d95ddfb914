package org.proxykit.undertow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.proxykit.api.spi.Settings;
import org.proxykit.undertow.cli.Main;

class SpawnMountTest {

  @Test
  void aSpawnMountStartsProxykitsOwnEchoAsAChildAndStopsItWithTheServer() throws Exception {
    List<String> command = echoCommand();
    ProxykitConfig config = new ProxykitConfig("test", List.of(new ProxykitConfig.Listener("127.0.0.1", 0)), false, null,
        ProxykitConfig.Limits.DEFAULTS, 16, Duration.ofSeconds(5), "off", List.of(new ProxykitConfig.Mount("/legacy",
            Settings.of("mounts[0].handler", Map.of("type", "spawn", "command", command, "stopTimeout", "2s")))),
        Path.of(""));
    ProxykitServer server = Proxykit.server(config).start();
    long pid;
    try {
      HttpResponse<String> response = Servers.get(server, "/legacy/x?y=1");
      assertEquals(200, response.statusCode(), response.body());
      JsonNode echo = new ObjectMapper().readTree(response.body());
      assertEquals("", echo.get("scriptName").asText(), "the child is mounted at / and gets the full path");
      assertEquals("/legacy/x", echo.get("pathInfo").asText());
      assertEquals("y=1", echo.get("queryString").asText());
      assertEquals("/legacy", echo.at("/headers/X-Script-Name/0").asText());
      assertEquals("127.0.0.1:" + server.urls().get(0).getPort(), echo.at("/headers/Host/0").asText());
      pid = echoChild();
      assertTrue(pid > 0, "the child runs");
    } finally {
      server.close();
    }
    long child = pid;
    // once stopped it may stay a zombie for a moment, until PID 1 reaps it
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false) && System.nanoTime() < deadline) {
      Thread.onSpinWait();
      java.util.concurrent.locks.LockSupport.parkNanos(20_000_000);
    }
    assertFalse(ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false), "the child outlived the server");
  }

  @Test
  void requestsForwardedWithoutBlockingStillLetAnIdleChildStop() throws Exception {
    List<String> command = echoCommand();
    ProxykitConfig config = new ProxykitConfig("test", List.of(new ProxykitConfig.Listener("127.0.0.1", 0)), false, null,
        ProxykitConfig.Limits.DEFAULTS, 16, Duration.ofSeconds(5), "off", List.of(new ProxykitConfig.Mount("/",
            Settings.of("mounts[0].handler", Map.of("type", "spawn", "command", command, "stopTimeout", "2s",
                "idleShutdown", "1s")))),
        Path.of(""));
    try (ProxykitServer server = Proxykit.server(config).start()) {
      for (int i = 0; i < 30; i++) {
        // the first starts the child (blocking); the others go to the running child directly
        HttpResponse<String> response = Servers.get(server, "/x" + i);
        assertEquals(200, response.statusCode(), response.body());
      }
      long child = echoChild();
      assertTrue(child > 0, "the child runs");
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false) && System.nanoTime() < deadline) {
        java.util.concurrent.locks.LockSupport.parkNanos(50_000_000);
      }
      assertFalse(ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false),
          "a request still counted in flight kept the idle child running");
      assertEquals(200, Servers.get(server, "/again").statusCode(), "the next request starts it again");
    }
  }

  @Test
  void commandLinesSplitLikeAShell() {
    assertEquals(List.of("python3", "-m", "http.server", "__PORT__"), CommandLineWords.split("python3 -m http.server __PORT__"));
    assertEquals(List.of("sh", "-c", "echo 'hi' && sleep 1", "a b", "c\"d"),
        CommandLineWords.split("sh -c \"echo 'hi' && sleep 1\" 'a b' c\\\"d"));
    assertThrows(IllegalArgumentException.class, () -> CommandLineWords.split("x 'open"));
  }

  /** Returns the command that runs proxykit's echo in a child JVM on {@code __PORT__}. */
  private static List<String> echoCommand() {
    return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
        "serve", "--listen", "127.0.0.1:__PORT__", "--echo", "--log-level", "warn");
  }

  /** Returns the pid of the spawned echo server among this JVM's descendants, or -1. */
  private static long echoChild() {
    // the command line of a process with a long one is not always known: its program is
    return ProcessHandle.current().descendants()
        .filter(p -> p.info().command().orElse("").endsWith("/java"))
        .findFirst().map(ProcessHandle::pid).orElse(-1L);
  }
}
