package dev.sluice.transforms.core;

import java.io.Serializable;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Progress lines of a bounded run, so that a user watching a backfill sees it move: records read
 * and written, the rate, and the time left against the planned amount, logged at most every 10 s by
 * whichever step reports next. Counts are kept per run and per JVM (on a cluster each worker logs
 * its share); the run's counters remain the accounting.
 */
public final class Progress implements Serializable {
  /**
   * How often a line is logged, at most: 10 s, or the system property {@code
   * sluice.progressMillis}.
   */
  static long everyMillis() {
    return Long.getLong("sluice.progressMillis", 10_000);
  }

  private static final Logger LOG = LoggerFactory.getLogger(Progress.class);
  private static final ConcurrentMap<String, State> RUNS = new ConcurrentHashMap<>();

  private final String pipeline;
  private final String run;
  private final long planned;
  private final String unit;

  private Progress(String pipeline, String run, long planned, String unit) {
    this.pipeline = pipeline;
    this.run = run;
    this.planned = planned;
    this.unit = unit;
  }

  /**
   * The progress of one run of {@code pipeline}: {@code planned} {@code unit}s of work in all (e.g.
   * records, bytes), or 0 when unknown.
   */
  public static Progress of(String pipeline, String run, long planned, String unit) {
    return new Progress(pipeline, run, planned, unit);
  }

  private static final class State {
    final long started = System.currentTimeMillis();
    final AtomicLong read = new AtomicLong();
    final AtomicLong written = new AtomicLong();
    final AtomicLong done = new AtomicLong();
    final AtomicLong lastLine = new AtomicLong(System.currentTimeMillis());
    final AtomicLong planned = new AtomicLong();
    final AtomicLong accepted = new AtomicLong();

    /** When the sink last took records; a sink not started yet counts from the run's start. */
    final AtomicLong lastAccepted = new AtomicLong(System.currentTimeMillis());

    volatile String unit = "";
  }

  /** The run's shared state in this JVM; the planned amount is whichever step knows it. */
  private State state() {
    State state = RUNS.computeIfAbsent(run, r -> new State());
    if (planned > 0 && state.planned.get() == 0) {
      state.planned.set(planned);
      state.unit = unit;
    }
    return state;
  }

  /** {@code records} read, covering {@code work} units of the planned amount. */
  public void read(long records, long work) {
    State state = state();
    state.read.addAndGet(records);
    state.done.addAndGet(work);
    maybeLog(state);
  }

  /**
   * {@code records} the sink took off the run's hands (written, kept out or dead-lettered): with
   * {@link #behind}, this lets a reader yield to the sink instead of piling records up in memory.
   */
  public void accepted(long records) {
    State state = state();
    state.accepted.addAndGet(records);
    state.lastAccepted.set(System.currentTimeMillis());
  }

  /**
   * Whether more than {@code maxInFlight} records are read and not yet accepted while the sink is
   * still taking records (it accepted some in the last {@code patienceMillis}): a reader on a
   * runner that queues whatever it is given (Direct) then yields instead of reading more. A sink
   * that takes nothing for that long (records it never sees, such as dead letters, or a sink not
   * started yet) never holds the read up.
   */
  public boolean behind(long maxInFlight, long patienceMillis) {
    State state = state();
    return inFlight() > maxInFlight
        && System.currentTimeMillis() - state.lastAccepted.get() < patienceMillis;
  }

  /** Records read and not yet accepted by the sink, in this JVM. */
  public long inFlight() {
    State state = state();
    return state.read.get() - state.accepted.get();
  }

  /** {@code records} written to the destination. */
  public void written(long records) {
    State state = state();
    state.written.addAndGet(records);
    maybeLog(state);
  }

  private void maybeLog(State state) {
    long now = System.currentTimeMillis();
    long last = state.lastLine.get();
    if (now - last < everyMillis() || !state.lastLine.compareAndSet(last, now)) {
      return;
    }
    LOG.info(line(state, now));
  }

  /** The progress line, e.g. "read 120,000 records (12% of 1,000,000 records), ...". */
  String line(State state, long now) {
    double seconds = Math.max(0.001, (now - state.started) / 1000.0);
    long read = state.read.get();
    StringBuilder line =
        new StringBuilder(pipeline)
            .append(": read ")
            .append(String.format(Locale.ROOT, "%,d", read))
            .append(" records");
    long done = state.done.get();
    if (planned > 0) {
      line.append(
          String.format(Locale.ROOT, " (%.0f%% of %,d %s)", 100.0 * done / planned, planned, unit));
    }
    line.append(String.format(Locale.ROOT, ", written %,d", state.written.get()))
        .append(String.format(Locale.ROOT, ", %,.0f records/s", read / seconds));
    if (planned > 0 && done > 0 && done < planned) {
      double left = (planned - done) * seconds / done;
      line.append(String.format(Locale.ROOT, ", about %.0f s left", left));
    }
    return line.toString();
  }

  /** The line this JVM would log now for the run (for tests and the launcher). */
  public String lineNow() {
    return line(state(), System.currentTimeMillis());
  }
}
