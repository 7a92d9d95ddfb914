package org.proxykit.spawn;

/**
 * What a {@link SpawningHandler}'s process is doing.
 *
 * @param state not started, starting, ready or stopping
 * @param pid the process id (of its process group leader), or -1 when there is no process
 * @param port the port it serves on, or -1 when there is no process
 * @param restarts how many times a process was started after the first
 * @since 0.1
 */
public record SpawnStatus(State state, long pid, int port, int restarts) {
  /** The life of a spawned backend. */
  public enum State {
    /** No process; the next request starts one. */
    NOT_STARTED,
    /** A process was started and is not ready yet; requests wait. */
    STARTING,
    /** The process accepts requests. */
    READY,
    /** The process is being stopped; requests wait for the next start. */
    STOPPING
  }
}
