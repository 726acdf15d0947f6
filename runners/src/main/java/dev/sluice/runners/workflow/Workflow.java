package dev.sluice.runners.workflow;

import dev.sluice.pipelines.OptionsDoc;
import dev.sluice.pipelines.PipelineCatalog;
import dev.sluice.pipelines.options.Durations;
import dev.sluice.pipelines.plan.SluicePipeline;
import java.beans.Introspector;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TimeZone;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.annotation.Nullable;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.quartz.CronExpression;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * A workflow: jobs, each a pipeline with its options on a cron schedule, run for data intervals
 * (the time between two fire times: the fire at {@code T} runs {@code [previous fire, T)}), with
 * upstream jobs that must have succeeded for the same interval, retries with a backoff, a timeout
 * and an SLA. Loaded from YAML and checked as a whole (keys, pipelines, options, templates, cron
 * expressions, dependencies, cycles), each problem naming the job and key.
 *
 * <pre>
 * workflow: lake
 * timezone: UTC
 * jobs:
 *   - name: load-files
 *     pipeline: files-to-lake
 *     schedule: "0 0 * * *"          # cron: 5 fields (minute first) or Quartz's 6-7 (second first)
 *     options: {input: "/data/{{ ds }}/*.csv", output: /lake, deadLetter: "file:/dlq"}
 *     retries: 2
 *     retry_backoff: PT30S           # doubled after each attempt
 *     timeout: PT1H
 *     sla: {finish_within: PT2H}     # or fresher_than: PT26H
 *   - name: export
 *     pipeline: jdbc-to-lake
 *     schedule: "0 0 * * *"
 *     depends_on: [load-files]
 *     options: {...}
 * </pre>
 */
public record Workflow(String name, ZoneId zone, Map<String, Job> jobs) {
  private static final Set<String> TOP = Set.of("workflow", "timezone", "jobs");
  private static final Set<String> JOB =
      Set.of(
          "name",
          "pipeline",
          "schedule",
          "options",
          "depends_on",
          "retries",
          "retry_backoff",
          "timeout",
          "sla");
  private static final Set<String> SLA = Set.of("finish_within", "fresher_than");
  private static final Pattern TEMPLATE = Pattern.compile("\\{\\{\\s*([A-Za-z_]+)\\s*}}");
  static final Set<String> VARIABLES = Set.of("interval_start", "interval_end", "ds");
  private static final Pattern NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_-]*");

  /** A job of the workflow. */
  public record Job(
      String name,
      String pipeline,
      String schedule,
      Map<String, String> options,
      List<String> dependsOn,
      int retries,
      Duration backoff,
      Duration timeout,
      @Nullable Duration finishWithin,
      @Nullable Duration fresherThan) {
    /** The Quartz cron expression of the schedule, in {@code zone}. */
    public CronExpression cron(ZoneId zone) {
      try {
        CronExpression cron = new CronExpression(quartzCron(schedule));
        cron.setTimeZone(TimeZone.getTimeZone(zone));
        return cron;
      } catch (ParseException e) {
        throw new IllegalStateException(e);
      }
    }

    /** The pipeline's arguments for one interval: the options, templates filled in. */
    public List<String> arguments(Interval interval) {
      List<String> args = new ArrayList<>();
      args.add(pipeline);
      options.forEach((option, value) -> args.add("--" + option + "=" + interval.fill(value)));
      return args;
    }
  }

  /** A data interval {@code [start, end)}, and its date {@code ds} (the start's, in the zone). */
  public record Interval(Instant start, Instant end, ZoneId zone) {
    public String ds() {
      return LocalDate.ofInstant(start, zone).toString();
    }

    /**
     * {@code value} with {@code {{ interval_start }}}, {@code {{ interval_end }}} and {@code {{ ds
     * }}}.
     */
    public String fill(String value) {
      Matcher m = TEMPLATE.matcher(value);
      StringBuilder out = new StringBuilder();
      while (m.find()) {
        String replacement =
            switch (m.group(1)) {
              case "interval_start" -> start.toString();
              case "interval_end" -> end.toString();
              case "ds" -> ds();
              default -> throw new IllegalStateException("unknown variable " + m.group(1));
            };
        m.appendReplacement(out, Matcher.quoteReplacement(replacement));
      }
      m.appendTail(out);
      return out.toString();
    }
  }

  /** The workflow in {@code file}, checked. */
  public static Workflow load(Path file) throws IOException {
    Object root;
    try {
      root =
          new Yaml(new SafeConstructor(new LoaderOptions()))
              .load(Files.readString(file, java.nio.charset.StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(file + " is not YAML: " + e.getMessage(), e);
    }
    return parse(root, file.toString());
  }

  /** The workflow of a parsed YAML document, checked; {@code where} names it in errors. */
  @SuppressWarnings("unchecked")
  static Workflow parse(@Nullable Object root, String where) {
    List<String> problems = new ArrayList<>();
    if (!(root instanceof Map<?, ?> top)) {
      throw new IllegalArgumentException(
          where + ": a workflow is a mapping with workflow and jobs");
    }
    unknownKeys(top, TOP, where, problems);
    String name = text(top.get("workflow"));
    if (name == null || !NAME.matcher(name).matches()) {
      problems.add(
          where + ": 'workflow' must be a name (letters, digits, - and _), but was " + name);
    }
    ZoneId zone = ZoneId.of("UTC");
    if (top.get("timezone") != null) {
      try {
        zone = ZoneId.of(String.valueOf(top.get("timezone")));
      } catch (RuntimeException e) {
        problems.add(where + ": 'timezone' " + top.get("timezone") + " is not a time zone");
      }
    }
    Map<String, Job> jobs = new LinkedHashMap<>();
    if (!(top.get("jobs") instanceof List<?> list) || list.isEmpty()) {
      problems.add(where + ": 'jobs' must be a list of at least one job");
    } else {
      int i = 0;
      for (Object item : list) {
        i++;
        String at = where + ": job #" + i;
        if (!(item instanceof Map<?, ?> map)) {
          problems.add(at + " must be a mapping");
          continue;
        }
        Job job = job((Map<String, Object>) map, at, problems);
        if (job != null) {
          if (jobs.put(job.name(), job) != null) {
            problems.add(where + ": job '" + job.name() + "' is defined twice");
          }
        }
      }
    }
    checkDependencies(jobs, where, problems);
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(String.join("\n", problems));
    }
    return new Workflow(name, zone, jobs);
  }

  private static @Nullable Job job(Map<String, Object> map, String at, List<String> problems) {
    int before = problems.size();
    String name = text(map.get("name"));
    if (name == null || !NAME.matcher(name).matches()) {
      problems.add(at + ": 'name' must be a name (letters, digits, - and _), but was " + name);
      return null;
    }
    at = at.replaceFirst("job #\\d+$", "job '" + name + "'");
    unknownKeys(map, JOB, at, problems);
    String pipelineName = text(map.get("pipeline"));
    SluicePipeline<?, ?> pipeline =
        pipelineName == null ? null : PipelineCatalog.byName(pipelineName).orElse(null);
    if (pipeline == null) {
      problems.add(
          at
              + ": unknown pipeline '"
              + pipelineName
              + "'; known: "
              + String.join(
                  ", ", PipelineCatalog.all().stream().map(SluicePipeline::name).toList()));
    }
    String schedule = text(map.get("schedule"));
    if (schedule == null || !CronExpression.isValidExpression(quartzCron(schedule))) {
      problems.add(
          at
              + ": 'schedule' "
              + (schedule == null ? "is missing" : "'" + schedule + "' is not a cron expression")
              + " (5 fields, minute first, e.g. \"0 * * * *\"; or Quartz's 6 or 7, second first)");
    }
    Map<String, String> options = new LinkedHashMap<>();
    if (map.get("options") instanceof Map<?, ?> given) {
      Set<String> known = pipeline == null ? null : optionNames(pipeline.optionsClass());
      for (Map.Entry<?, ?> option : given.entrySet()) {
        String key = String.valueOf(option.getKey());
        String value = option.getValue() == null ? "" : String.valueOf(option.getValue());
        if (known != null && !known.contains(key)) {
          problems.add(at + ": unknown option '" + key + "' of " + pipelineName);
        }
        Matcher m = TEMPLATE.matcher(value);
        while (m.find()) {
          if (!VARIABLES.contains(m.group(1))) {
            problems.add(
                at
                    + ": option '"
                    + key
                    + "' uses unknown variable {{ "
                    + m.group(1)
                    + " }}; known: interval_start, interval_end, ds");
          }
        }
        options.put(key, value);
      }
    } else if (map.get("options") != null) {
      problems.add(at + ": 'options' must be a mapping of option names to values");
    }
    List<String> dependsOn = new ArrayList<>();
    if (map.get("depends_on") instanceof List<?> deps) {
      deps.forEach(d -> dependsOn.add(String.valueOf(d)));
    } else if (map.get("depends_on") != null) {
      problems.add(at + ": 'depends_on' must be a list of job names");
    }
    int retries = 0;
    if (map.get("retries") != null) {
      if (map.get("retries") instanceof Integer n && n >= 0) {
        retries = n;
      } else {
        problems.add(at + ": 'retries' must be a whole number, 0 or more");
      }
    }
    Duration backoff = duration(map, "retry_backoff", "PT30S", at, problems);
    Duration timeout = duration(map, "timeout", "PT1H", at, problems);
    Duration finishWithin = null;
    Duration fresherThan = null;
    if (map.get("sla") instanceof Map<?, ?> sla) {
      unknownKeys(sla, SLA, at + " sla", problems);
      @SuppressWarnings("unchecked")
      Map<String, Object> slaMap = (Map<String, Object>) sla;
      finishWithin =
          slaMap.containsKey("finish_within")
              ? duration(slaMap, "finish_within", null, at + " sla", problems)
              : null;
      fresherThan =
          slaMap.containsKey("fresher_than")
              ? duration(slaMap, "fresher_than", null, at + " sla", problems)
              : null;
    } else if (map.get("sla") != null) {
      problems.add(at + ": 'sla' must be a mapping (finish_within, fresher_than)");
    }
    if (problems.size() > before || pipeline == null || schedule == null) {
      return null;
    }
    return new Job(
        name,
        pipelineName,
        schedule,
        options,
        List.copyOf(dependsOn),
        retries,
        backoff,
        timeout,
        finishWithin,
        fresherThan);
  }

  private static Duration duration(
      Map<?, ?> map, String key, @Nullable String fallback, String at, List<String> problems) {
    Object value = map.get(key);
    String text = value == null ? fallback : String.valueOf(value);
    try {
      return Duration.ofMillis(Durations.parse(key, text).getMillis());
    } catch (IllegalArgumentException e) {
      problems.add(at + ": '" + key + "' " + text + " is not an ISO-8601 duration (e.g. PT30S)");
      return Duration.ZERO;
    }
  }

  private static void checkDependencies(
      Map<String, Job> jobs, String where, List<String> problems) {
    for (Job job : jobs.values()) {
      for (String upstream : job.dependsOn()) {
        Job up = jobs.get(upstream);
        if (up == null) {
          problems.add(
              where + ": job '" + job.name() + "' depends on unknown job '" + upstream + "'");
        } else if (!quartzCron(up.schedule()).equals(quartzCron(job.schedule()))) {
          problems.add(
              where
                  + ": job '"
                  + job.name()
                  + "' depends on '"
                  + upstream
                  + "', whose schedule differs: a dependency is on the same data interval, so"
                  + " both need the same schedule");
        }
      }
    }
    Set<String> done = new HashSet<>();
    for (String start : jobs.keySet()) {
      List<String> cycle = cycle(start, jobs, new ArrayList<>(), done);
      if (cycle != null) {
        problems.add(where + ": the dependencies form a cycle: " + String.join(" -> ", cycle));
        return;
      }
    }
  }

  private static @Nullable List<String> cycle(
      String job, Map<String, Job> jobs, List<String> path, Set<String> done) {
    if (path.contains(job)) {
      List<String> cycle = new ArrayList<>(path.subList(path.indexOf(job), path.size()));
      cycle.add(job);
      return cycle;
    }
    if (done.contains(job) || !jobs.containsKey(job)) {
      return null;
    }
    path.add(job);
    for (String upstream : jobs.get(job).dependsOn()) {
      List<String> found = cycle(upstream, jobs, path, done);
      if (found != null) {
        return found;
      }
    }
    path.remove(path.size() - 1);
    done.add(job);
    return null;
  }

  private static void unknownKeys(Map<?, ?> map, Set<String> known, String at, List<String> out) {
    for (Object key : map.keySet()) {
      if (!known.contains(String.valueOf(key))) {
        out.add(
            at
                + ": unknown key '"
                + key
                + "'; known: "
                + String.join(", ", known.stream().sorted().toList()));
      }
    }
  }

  private static @Nullable String text(@Nullable Object value) {
    return value == null ? null : String.valueOf(value).strip();
  }

  /** A 5-field cron (minute first) as Quartz's (second first, {@code ?} for one day field). */
  static String quartzCron(String schedule) {
    String[] fields = schedule.strip().split("\\s+");
    if (fields.length != 5) {
      return schedule.strip();
    }
    String dayOfMonth = fields[2];
    String dayOfWeek = fields[4];
    if (dayOfWeek.equals("*")) {
      dayOfWeek = "?";
    } else if (dayOfMonth.equals("*")) {
      dayOfMonth = "?";
    }
    // Unix cron counts Sunday as 0 (and 7); Quartz as 1.
    dayOfWeek = shiftDays(dayOfWeek);
    return "0 "
        + fields[0]
        + " "
        + fields[1]
        + " "
        + dayOfMonth
        + " "
        + fields[3]
        + " "
        + dayOfWeek;
  }

  private static String shiftDays(String field) {
    if (field.equals("?") || !field.matches("[0-7,\\-/]+")) {
      return field;
    }
    Matcher m = Pattern.compile("\\d+").matcher(field);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      int day = Integer.parseInt(m.group()) % 7;
      m.appendReplacement(out, String.valueOf(day + 1));
    }
    m.appendTail(out);
    return out.toString();
  }

  /** Every option name a pipeline takes: its own, and those of Beam and the runners. */
  static Set<String> optionNames(Class<? extends PipelineOptions> optionsClass) {
    Set<String> names = new LinkedHashSet<>(OptionsDoc.names(optionsClass));
    Set<Class<?>> interfaces = new LinkedHashSet<>(PipelineOptionsFactory.getRegisteredOptions());
    interfaces.add(optionsClass);
    for (Class<?> iface : interfaces) {
      for (Method method : iface.getMethods()) {
        String n = method.getName();
        if (method.getParameterCount() == 0 && n.startsWith("get") && n.length() > 3) {
          names.add(Introspector.decapitalize(n.substring(3)));
        } else if (method.getParameterCount() == 0 && n.startsWith("is") && n.length() > 2) {
          names.add(Introspector.decapitalize(n.substring(2)));
        }
      }
    }
    return names;
  }

  /**
   * The intervals of {@code job} between {@code from} and {@code to}: those whose start is a fire
   * time in {@code [from, to)}, each ending at the next fire time.
   */
  public List<Interval> intervals(Job job, Instant from, Instant to) {
    CronExpression cron = job.cron(zone);
    List<Interval> out = new ArrayList<>();
    Date start =
        cron.isSatisfiedBy(Date.from(from))
            ? Date.from(from)
            : cron.getNextValidTimeAfter(Date.from(from));
    while (start != null && start.toInstant().isBefore(to)) {
      Date end = cron.getNextValidTimeAfter(start);
      out.add(new Interval(start.toInstant(), end.toInstant(), zone));
      start = end;
    }
    return out;
  }

  /**
   * The interval a fire at {@code fired} runs: it ends at the job's last fire time at or before
   * {@code fired} (a fire made late, a misfire run at once, still runs the interval of the fire
   * time it stands for), and starts at the fire time before that.
   */
  public Interval intervalOfFire(Job job, Instant fired) {
    return intervalEndingAt(job, intervalEndingAt(job, fired.plusMillis(1)).start());
  }

  /** The interval ending at {@code fireTime}: from the job's fire time before it to it. */
  public Interval intervalEndingAt(Job job, Instant fireTime) {
    CronExpression cron = job.cron(zone);
    for (Duration back :
        List.of(
            Duration.ofHours(2), Duration.ofDays(2), Duration.ofDays(40), Duration.ofDays(800))) {
      Date t = cron.getNextValidTimeAfter(Date.from(fireTime.minus(back)));
      Date previous = null;
      while (t != null && t.toInstant().isBefore(fireTime)) {
        previous = t;
        t = cron.getNextValidTimeAfter(t);
      }
      if (previous != null) {
        return new Interval(previous.toInstant(), fireTime, zone);
      }
    }
    throw new IllegalStateException("no fire time of " + job.schedule() + " before " + fireTime);
  }

  /** Jobs in an order where every job comes after its upstream jobs. */
  public List<Job> ordered() {
    List<Job> out = new ArrayList<>();
    Set<String> placed = new HashSet<>();
    while (out.size() < jobs.size()) {
      for (Job job : jobs.values()) {
        if (!placed.contains(job.name()) && placed.containsAll(job.dependsOn())) {
          out.add(job);
          placed.add(job.name());
        }
      }
    }
    return out;
  }

  /** {@code job} and every job it depends on, directly or not, upstream first. */
  public List<Job> withUpstream(String job) {
    Job target = jobs.get(job);
    if (target == null) {
      throw new IllegalArgumentException(
          "workflow "
              + name
              + " has no job '"
              + job
              + "'; jobs: "
              + String.join(", ", jobs.keySet()));
    }
    Set<String> needed = new LinkedHashSet<>();
    List<String> todo = new ArrayList<>(List.of(job));
    while (!todo.isEmpty()) {
      String next = todo.remove(todo.size() - 1);
      if (needed.add(next)) {
        todo.addAll(jobs.get(next).dependsOn());
      }
    }
    return ordered().stream().filter(j -> needed.contains(j.name())).toList();
  }
}
