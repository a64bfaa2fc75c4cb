package dev.eventscan.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import javax.sql.DataSource;

/**
 * CPU time used by this JVM and by the benchmark's PostgreSQL (the postmaster and its backends,
 * from Linux's /proc), so that a scenario can report CPU per unit of work: on a machine shared with
 * other work, throughput follows the CPU share it gets, CPU per unit much less.
 */
final class CpuMeter {
  /** Clock ticks per second of /proc's times; 100 on Linux. */
  private static final double TICKS_PER_SECOND = 100.0;

  private final long postmaster;

  private CpuMeter(long postmaster) {
    this.postmaster = postmaster;
  }

  /** Empty where /proc is not readable (not Linux). */
  static java.util.Optional<CpuMeter> of(DataSource dataSource) {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT pg_backend_pid()")) {
      r.next();
      long backend = r.getLong(1);
      return java.util.Optional.of(new CpuMeter(stat(backend)[PPID]));
    } catch (Exception e) {
      return java.util.Optional.empty();
    }
  }

  /** CPU seconds used so far: this JVM, and PostgreSQL. */
  record Reading(double jvmSeconds, double postgresSeconds) {
    Reading minus(Reading earlier) {
      return new Reading(
          jvmSeconds - earlier.jvmSeconds, postgresSeconds - earlier.postgresSeconds);
    }
  }

  Reading read() {
    double jvm =
        ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime()
            / 1e9;
    // The postmaster's own time and that of its ended children, plus its live children's.
    long[] own = stat(postmaster);
    long ticks = own[UTIME] + own[STIME] + own[CUTIME] + own[CSTIME];
    try (DirectoryStream<Path> processes = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
      for (Path process : processes) {
        try {
          long[] stat = stat(Long.parseLong(process.getFileName().toString()));
          if (stat[PPID] == postmaster) {
            ticks += stat[UTIME] + stat[STIME];
          }
        } catch (IllegalStateException gone) {
          // ended while we looked: its time is in the postmaster's children's time by now
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot list /proc", e);
    }
    return new Reading(jvm, ticks / TICKS_PER_SECOND);
  }

  private static final int PPID = 0;
  private static final int UTIME = 1;
  private static final int STIME = 2;
  private static final int CUTIME = 3;
  private static final int CSTIME = 4;

  /** ppid, utime, stime, cutime, cstime of a process (fields 4, 14-17 of /proc/pid/stat). */
  private static long[] stat(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      // The command name (field 2) may hold spaces; the fields after it follow its ')'.
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return new long[] {
        Long.parseLong(fields[1]),
        Long.parseLong(fields[11]),
        Long.parseLong(fields[12]),
        Long.parseLong(fields[13]),
        Long.parseLong(fields[14])
      };
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException("cannot read /proc/" + pid + "/stat", e);
    }
  }
}
