package org.proxykit.spawn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.proxykit.api.ProxyRequest;
import org.proxykit.api.ProxyResponse;
import org.proxykit.api.ProxyStatusException;

class SpawningHandlerTest {
  private static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();
  private static final Pattern PID = Pattern.compile("pid=(\\d+)");

  private final List<SpawningHandler> handlers = new ArrayList<>();

  @AfterEach
  void closeAll() {
    handlers.forEach(SpawningHandler::close);
  }

  private static List<String> command(String... options) throws Exception {
    String classes = Path.of(TinyServer.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    List<String> command = new ArrayList<>(List.of(JAVA, "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-cp", classes,
        TinyServer.class.getName(), "__PORT__"));
    command.addAll(List.of(options));
    return command;
  }

  private SpawningHandler spawn(SpawningHandler.Builder builder) {
    SpawningHandler handler = builder.stopTimeout(Duration.ofSeconds(2)).build();
    handlers.add(handler);
    return handler;
  }

  private static ProxyRequest request(String path) {
    return ProxyRequest.blank("http://front.example" + path).toBuilder()
        .scriptName("/legacy").pathInfo(path.contains("?") ? path.substring(0, path.indexOf('?')) : path)
        .remoteAddr("198.51.100.4").build();
  }

  private static String text(SpawningHandler handler, ProxyRequest request) throws IOException {
    try (ProxyResponse response = handler.handle(request)) {
      return new String(response.body().open().readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static long childPid(String body) {
    Matcher matcher = PID.matcher(body);
    assertTrue(matcher.find(), body);
    return Long.parseLong(matcher.group(1));
  }

  /** Returns true if the process runs: a zombie waiting for PID 1 to reap it does not (ProcessHandle says it is alive). */
  private static boolean alive(long pid) {
    if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
      return false;
    }
    try {
      String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
      char state = stat.charAt(stat.lastIndexOf(')') + 2);
      return state != 'Z' && state != 'X';
    } catch (IOException gone) {
      return false;
    }
  }

  private static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
      java.util.concurrent.locks.LockSupport.parkNanos(20_000_000);
    }
  }

  @Test
  void theFirstRequestStartsTheProcessWithItsPortAndTheProxyHeaders() throws Exception {
    SpawningHandler handler = spawn(SpawningHandler.builder(command()));
    assertEquals(SpawnStatus.State.NOT_STARTED, handler.status().state());
    String body = text(handler, request("/a/b?x=1"));
    SpawnStatus status = handler.status();
    assertEquals(SpawnStatus.State.READY, status.state());
    assertTrue(body.startsWith("port=" + status.port() + " env=" + status.port() + " path=/legacy/a/b?x=1 "), body);
    assertTrue(body.contains(" host=front.example "), body);
    assertTrue(body.contains(" xff=198.51.100.4 "), body);
    assertTrue(body.contains(" script=/legacy "), body);
    assertTrue(body.contains(" scheme=http "), body);
    assertTrue(status.pid() > 0);
    assertEquals(0, status.restarts());
  }

  @Test
  void aClientsProxyHeadersNeverReachTheBackend() throws Exception {
    SpawningHandler handler = spawn(SpawningHandler.builder(command()));
    String body = text(handler, request("/").toBuilder().header("X-WSGIProxy-Host", "evil.example")
        .header("X_WSGIProxy_Host", "evil.example").header("X-Script-Name", "/forged").build());
    assertTrue(body.contains(" wsgi=null "), body);
    assertTrue(body.contains(" script=/legacy "), body);
  }

  @Test
  void aReadinessPathThatCannotBeRequestedIsRefusedAtBuild() {
    assertThrows(IllegalArgumentException.class, () -> SpawningHandler.builder(List.of("x")).readinessPath("/health check"));
  }

  @Test
  void concurrentFirstRequestsStartOneProcess() throws Exception {
    SpawningHandler handler = spawn(SpawningHandler.builder(command("--delay-start", "300")));
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<String>> answers = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        answers.add(pool.submit((Callable<String>) () -> text(handler, request("/"))));
      }
      Set<Long> pids = new HashSet<>();
      for (Future<String> answer : answers) {
        pids.add(childPid(answer.get(30, TimeUnit.SECONDS)));
      }
      assertEquals(1, pids.size(), "one process serves them all");
      assertEquals(0, handler.status().restarts());
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void anHttpReadinessCheckIsPassedBeforeTheFirstRequest() throws Exception {
    SpawningHandler handler = spawn(SpawningHandler.builder(command("--health-after", "300")).readinessPath("/health"));
    assertTrue(text(handler, request("/")).contains(" health=true "));
  }

  @Test
  void aProcessNotReadyInTimeIsStoppedAndTheRequestGets503() throws Exception {
    SpawningHandler handler = spawn(SpawningHandler.builder(command("--delay-start", "10000"))
        .startTimeout(Duration.ofMillis(700)));
    ProxyStatusException e = assertThrows(ProxyStatusException.class, () -> handler.handle(request("/")));
    assertEquals(503, e.status());
    assertTrue(e.reason().endsWith("was not ready within 700ms"), e.reason());
    assertEquals(SpawnStatus.State.NOT_STARTED, handler.status().state());
    assertEquals(-1, handler.status().pid());
  }

  @Test
  void idleShutdownStopsTheProcessAndTheNextRequestStartsItAgain() throws Exception {
    SpawningHandler handler = spawn(SpawningHandler.builder(command()).idleShutdown(Duration.ofMillis(300)));
    long first = childPid(text(handler, request("/")));
    await("the idle process stopped", () -> handler.status().state() == SpawnStatus.State.NOT_STARTED);
    await("pid " + first + " gone", () -> !alive(first));
    long second = childPid(text(handler, request("/")));
    assertTrue(second != first);
    assertEquals(1, handler.status().restarts());
  }

  @Test
  void aStreamingResponseIsNeverCutByIdleShutdown() throws Exception {
    SpawningHandler handler = spawn(SpawningHandler.builder(command()).idleShutdown(Duration.ofMillis(150)));
    String ticks = text(handler, request("/slow?ticks=8"));
    assertEquals("tick\n".repeat(8), ticks);
  }

  @Test
  void aCrashIsNoticedAndTheNextRequestStartsANewProcessAfterTheBackoff() throws Exception {
    SpawningHandler handler = spawn(SpawningHandler.builder(command("--crash-after", "500")));
    long first = childPid(text(handler, request("/")));
    await("the crash noticed", () -> handler.status().state() == SpawnStatus.State.NOT_STARTED);
    ProxyStatusException backedOff = assertThrows(ProxyStatusException.class, () -> handler.handle(request("/")));
    assertEquals(503, backedOff.status());
    assertEquals("1", backedOff.headers().first("Retry-After"));
    long[] second = {-1};
    await("a new process answers", () -> {
      try {
        second[0] = childPid(text(handler, request("/")));
        return true;
      } catch (IOException notYet) {
        return false;
      }
    });
    assertTrue(second[0] != first);
    assertFalse(alive(first));
  }

  @Test
  void aProcessThatCannotStartIsBackedOffExponentially() throws Exception {
    SpawningHandler handler = spawn(SpawningHandler.builder(command("--exit-at-start")));
    ProxyStatusException first = assertThrows(ProxyStatusException.class, () -> handler.handle(request("/")));
    assertTrue(first.reason().endsWith("exited with code 4 while starting"), first.reason());
    ProxyStatusException waiting = assertThrows(ProxyStatusException.class, () -> handler.handle(request("/")));
    assertTrue(waiting.reason().endsWith("keeps crashing; next start in 1s"), waiting.reason());
    await("the first backoff over", () -> {
      try {
        handler.handle(request("/")).close();
        return false;
      } catch (ProxyStatusException e) {
        return e.reason().endsWith("while starting");
      } catch (IOException e) {
        return false;
      }
    });
    ProxyStatusException longer = assertThrows(ProxyStatusException.class, () -> handler.handle(request("/")));
    assertTrue(longer.reason().endsWith("next start in 2s"), longer.reason());
  }

  @Test
  void aChildThatIgnoresSigtermIsKilledAfterTheStopTimeout() throws Exception {
    SpawningHandler handler = SpawningHandler.builder(command("--ignore-term")).stopTimeout(Duration.ofMillis(500)).build();
    handlers.add(handler);
    long pid = childPid(text(handler, request("/")));
    long start = System.nanoTime();
    handler.close();
    assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(450), "it was killed before the stop timeout");
    assertFalse(alive(pid));
  }

  @Test
  void aDoubleForkedGrandchildIsStoppedWithItsParent(@TempDir Path dir) throws Exception {
    Path grandchildPid = dir.resolve("grandchild.pid");
    SpawningHandler handler = spawn(SpawningHandler.builder(command("--grandchild", grandchildPid.toString())));
    long pid = childPid(text(handler, request("/")));
    long grandchild = Long.parseLong(Files.readString(grandchildPid).strip());
    assertTrue(alive(grandchild));
    handler.close();
    assertFalse(alive(pid));
    await("the grandchild gone", () -> !alive(grandchild));
  }

  @Test
  void closeFromAnotherThreadWhileRequestsAreInFlight() throws Exception {
    SpawningHandler handler = spawn(SpawningHandler.builder(command()));
    long pid = childPid(text(handler, request("/")));
    CountDownLatch streaming = new CountDownLatch(1);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<String> inFlight = pool.submit(() -> {
        try (ProxyResponse response = handler.handle(request("/slow?ticks=50"))) {
          InputStream in = response.body().open();
          in.read();
          streaming.countDown();
          return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
      });
      assertTrue(streaming.await(10, TimeUnit.SECONDS));
      handler.close();
      assertFalse(alive(pid));
      java.util.concurrent.ExecutionException cut =
          assertThrows(java.util.concurrent.ExecutionException.class, () -> inFlight.get(10, TimeUnit.SECONDS));
      assertTrue(cut.getCause() instanceof IOException, "a stream cut by the stop must fail, not end: " + cut);
      ProxyStatusException after = assertThrows(ProxyStatusException.class, () -> handler.handle(request("/")));
      assertEquals(503, after.status());
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aChattyChildNeverBlocksOnItsOutput() throws Exception {
    SpawningHandler handler = spawn(SpawningHandler.builder(command("--chatty", "20000")));
    assertTrue(text(handler, request("/")).startsWith("port="));
  }

  @Test
  void noChildOutlivesAProxykitJvmStoppedBySigtermOrKilledBySigkill() throws Exception {
    for (boolean sigkill : new boolean[] {false, true}) {
      Process host = new ProcessBuilder(JAVA, "-cp", System.getProperty("java.class.path"), SpawnHost.class.getName(),
          JAVA, Path.of(TinyServer.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString())
          .redirectErrorStream(true).start();
      try {
        BufferedReader out = new BufferedReader(new InputStreamReader(host.getInputStream(), StandardCharsets.UTF_8));
        long groupLeader = -1;
        for (String line; (line = out.readLine()) != null; ) {
          if (line.startsWith("child pid ")) {
            groupLeader = Long.parseLong(line.substring("child pid ".length()).strip());
            break;
          }
        }
        assertTrue(groupLeader > 0, "the host never reported its child");
        List<ProcessHandle> family = new ArrayList<>(ProcessHandle.of(groupLeader).orElseThrow().descendants().toList());
        assertFalse(family.isEmpty());
        if (sigkill) {
          host.destroyForcibly();
        } else {
          host.destroy();
        }
        assertTrue(host.waitFor(20, TimeUnit.SECONDS));
        long leader = groupLeader;
        await("the child of a " + (sigkill ? "SIGKILLed" : "SIGTERMed") + " JVM gone",
            () -> !alive(leader) && family.stream().noneMatch(member -> alive(member.pid())));
        Thread drain = new Thread(() -> {
          try {
            out.transferTo(java.io.Writer.nullWriter());
          } catch (IOException ignored) {
            // done
          }
        });
        drain.start();
      } finally {
        host.destroyForcibly();
      }
    }
  }
}
