package org.proxykit.spawn;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.proxykit.api.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One backend process and everything it starts. On Linux it runs in a process group of its
 * own (through {@code setsid}), so a stop reaches double-forked grandchildren too, and under
 * a small shell that also watches its stdin, a pipe from this JVM: if the JVM dies, even by
 * SIGKILL, the pipe closes and the watchdog stops the whole group. Without {@code setsid}
 * the process tree known to {@link ProcessHandle} is stopped instead. Output is read line by
 * line on two threads, so a chatty child never blocks on a full pipe, and the last lines are
 * kept for the crash report.
 */
final class ChildProcess {
  private static final Logger log = LoggerFactory.getLogger(ChildProcess.class);
  private static final int KEPT_LINES = 20;
  private static final @Nullable Path SETSID = find("setsid");
  private static final @Nullable Path KILL = find("kill");
  /**
   * Runs "$@" with stdin from /dev/null and waits for it; meanwhile a watchdog reads stdin
   * (the pipe from the JVM) and on its end stops the process group: TERM, then KILL.
   */
  private static final String WRAPPER = "exec 3<&0\n"
      + "\"$@\" < /dev/null 3<&- &\n"
      + "child=$!\n"
      // a background job's stdin would be /dev/null: the watchdog reads the pipe through fd 3
      // once the pipe ends the watchdog ignores TERM itself, or its own kill would stop it before the KILL
      + "{ while read -r _; do :; done <&3; trap '' TERM; kill -TERM 0; sleep \"$PROXYKIT_STOP_SECONDS\"; kill -KILL 0; } &\n"
      + "exec 3<&-\n"
      + "wait \"$child\"\n";

  private final String name;
  private final Process process;
  private final boolean ownGroup;
  private final Deque<String> lastLines = new ArrayDeque<>();

  private ChildProcess(String name, Process process, boolean ownGroup) {
    this.name = name;
    this.process = process;
    this.ownGroup = ownGroup;
  }

  /** Starts {@code command}, as described above. */
  static ChildProcess start(String name, List<String> command, @Nullable Path cwd, Map<String, String> env,
      boolean cleanEnv, Duration stopTimeout) throws IOException {
    List<String> argv = new ArrayList<>();
    boolean ownGroup = SETSID != null && KILL != null;
    if (ownGroup) {
      argv.add(SETSID.toString());
      argv.add("sh");
      argv.add("-c");
      argv.add(WRAPPER);
      argv.add("proxykit-spawn");
    }
    argv.addAll(command);
    ProcessBuilder builder = new ProcessBuilder(argv);
    if (cwd != null) {
      builder.directory(cwd.toFile());
    }
    if (cleanEnv) {
      String path = builder.environment().get("PATH");
      builder.environment().clear();
      if (path != null) {
        builder.environment().put("PATH", path);
      }
    }
    builder.environment().putAll(env);
    builder.environment().put("PROXYKIT_STOP_SECONDS", String.valueOf(Math.max(1, stopTimeout.toSeconds())));
    Process process = builder.start();
    ChildProcess child = new ChildProcess(name, process, ownGroup);
    child.pump(process.getInputStream(), "out");
    child.pump(process.getErrorStream(), "err");
    return child;
  }

  long pid() {
    return process.pid();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  Process process() {
    return process;
  }

  /** Returns the last lines the process wrote, oldest first. */
  synchronized List<String> lastLines() {
    return new ArrayList<>(lastLines);
  }

  /**
   * Stops the process and everything it started: SIGTERM to the group (or tree), up to
   * {@code timeout} for all of it to end, then SIGKILL. Returns when nothing is left.
   */
  void stop(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    if (ownGroup) {
      signalGroup("TERM");
      while (groupAlive() && System.nanoTime() < deadline) {
        sleepQuietly(20);
      }
      if (groupAlive()) {
        log.warn("{}[{}] did not stop within {}: killing it", name, pid(), timeout);
        signalGroup("KILL");
        long killDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (groupAlive() && System.nanoTime() < killDeadline) {
          sleepQuietly(20);
        }
      }
    } else {
      List<ProcessHandle> tree = new ArrayList<>(process.descendants().toList());
      tree.add(process.toHandle());
      tree.forEach(ProcessHandle::destroy);
      for (ProcessHandle handle : tree) {
        try {
          handle.onExit().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (Exception notYet) {
          handle.destroyForcibly();
        }
      }
    }
    closeQuietly();
    try {
      process.waitFor(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void closeQuietly() {
    try {
      process.getOutputStream().close();
    } catch (IOException ignored) {
      // the pipe is gone already
    }
  }

  private void signalGroup(String signal) {
    try {
      new ProcessBuilder(KILL.toString(), "-" + signal, "--", "-" + pid()).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(5, TimeUnit.SECONDS);
    } catch (IOException e) {
      log.warn("cannot signal {}[{}]: {}", name, pid(), e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Returns true while any live process of the group is left. Zombies do not count: an
   * orphan's zombie lingers until PID 1 reaps it, which in a container may be never, and
   * {@code kill -0} would see it as alive. Reads /proc where there is one.
   */
  private boolean groupAlive() {
    Path proc = Path.of("/proc");
    if (Files.isDirectory(proc)) {
      try (java.util.stream.Stream<Path> entries = Files.list(proc)) {
        return entries.anyMatch(entry -> liveMemberOfGroup(entry, pid()));
      } catch (IOException | java.io.UncheckedIOException e) {
        // fall back to kill -0 below
      }
    }
    try {
      Process probe = new ProcessBuilder(KILL.toString(), "-0", "--", "-" + pid()).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      return probe.waitFor(5, TimeUnit.SECONDS) && probe.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Returns true if /proc/PID/stat says the process is in group {@code group} and not a zombie. */
  private static boolean liveMemberOfGroup(Path entry, long group) {
    String name = entry.getFileName().toString();
    if (name.isEmpty() || !Character.isDigit(name.charAt(0))) {
      return false;
    }
    try {
      String stat = Files.readString(entry.resolve("stat"), StandardCharsets.US_ASCII);
      // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so read after the last ')'
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return fields.length > 2 && Long.parseLong(fields[2]) == group && !fields[0].equals("Z") && !fields[0].equals("X");
    } catch (IOException | RuntimeException gone) {
      return false;
    }
  }

  private void pump(InputStream stream, String which) {
    Thread pump = new Thread(() -> {
      try (BufferedReader lines = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
        for (String line; (line = lines.readLine()) != null; ) {
          log.info("{}[{}] {}", name, process.pid(), line);
          synchronized (this) {
            if (lastLines.size() == KEPT_LINES) {
              lastLines.removeFirst();
            }
            lastLines.addLast(line);
          }
        }
      } catch (IOException ignored) {
        // the process is gone
      }
    }, "spawn-" + name + "-" + which);
    pump.setDaemon(true);
    pump.start();
  }

  private static @Nullable Path find(String program) {
    String path = System.getenv("PATH");
    for (String dir : (path == null ? "/usr/bin:/bin" : path).split(java.io.File.pathSeparator)) {
      Path candidate = Path.of(dir, program);
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    return null;
  }

  private static void sleepQuietly(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return name + "[" + pid() + "]";
  }
}
