package dev.sluice.transforms.sql;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.annotation.Nullable;
import org.apache.beam.vendor.calcite.v1_40_0.org.apache.calcite.config.Lex;
import org.apache.beam.vendor.calcite.v1_40_0.org.apache.calcite.sql.SqlBasicCall;
import org.apache.beam.vendor.calcite.v1_40_0.org.apache.calcite.sql.SqlCall;
import org.apache.beam.vendor.calcite.v1_40_0.org.apache.calcite.sql.SqlIdentifier;
import org.apache.beam.vendor.calcite.v1_40_0.org.apache.calcite.sql.SqlIntervalLiteral;
import org.apache.beam.vendor.calcite.v1_40_0.org.apache.calcite.sql.SqlJoin;
import org.apache.beam.vendor.calcite.v1_40_0.org.apache.calcite.sql.SqlKind;
import org.apache.beam.vendor.calcite.v1_40_0.org.apache.calcite.sql.SqlLiteral;
import org.apache.beam.vendor.calcite.v1_40_0.org.apache.calcite.sql.SqlNode;
import org.apache.beam.vendor.calcite.v1_40_0.org.apache.calcite.sql.SqlNodeList;
import org.apache.beam.vendor.calcite.v1_40_0.org.apache.calcite.sql.SqlSelect;
import org.apache.beam.vendor.calcite.v1_40_0.org.apache.calcite.sql.parser.SqlParseException;
import org.apache.beam.vendor.calcite.v1_40_0.org.apache.calcite.sql.parser.SqlParser;
import org.apache.beam.vendor.calcite.v1_40_0.org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.beam.vendor.calcite.v1_40_0.org.apache.calcite.sql.parser.SqlParserUtil;

/**
 * One transform step's query, read before anything runs: which tables it reads (the records as
 * {@code input}, and lookups), whether it aggregates, its event-time window, and the text Beam SQL
 * runs, which carries each record's source through a per-record query in a hidden column.
 *
 * @param sql the query as written
 * @param executed the query Beam SQL runs (with the hidden source column when per record)
 * @param tables the tables it reads, {@code input} first
 * @param aggregates whether rows are grouped (GROUP BY, DISTINCT, HAVING or aggregate functions)
 * @param window the GROUP BY's TUMBLE, HOP or SESSION window, or null
 * @param projection whether it only selects columns of input, renamed or not (no expression, WHERE,
 *     join or grouping): one row per record, its values unchanged
 * @param columns each named output column and the columns its expression reads, as {@code
 *     table.column} (input or a lookup): the step's column lineage
 */
public record SqlQuery(
    String sql,
    String executed,
    List<String> tables,
    boolean aggregates,
    @Nullable Window window,
    boolean projection,
    Map<String, List<String>> columns)
    implements Serializable {
  /** The table the records are. */
  public static final String INPUT = "input";

  /**
   * An event-time window of a GROUP BY, in milliseconds.
   *
   * @param kind TUMBLE, HOP or SESSION
   * @param field the timestamp column it windows
   * @param size the window's size (TUMBLE, HOP) or gap (SESSION)
   * @param period how often HOP windows start (0 otherwise)
   */
  public record Window(String kind, String field, long size, long period) implements Serializable {
    /** The latest end of a window that an event at {@code timestamp} belongs to. */
    public long lastEnd(long timestamp) {
      return switch (kind) {
        case "TUMBLE" -> Math.floorDiv(timestamp, size) * size + size;
        case "HOP" -> Math.floorDiv(timestamp, period) * period + size;
        default -> timestamp + size;
      };
    }
  }

  /** Parses and checks {@code sql}, naming what is wrong in {@code step}'s terms. */
  public static SqlQuery parse(String step, String sql) {
    SqlNode node;
    try {
      node = SqlParser.create(sql, SqlParser.config().withLex(Lex.JAVA)).parseQuery();
    } catch (SqlParseException e) {
      throw new IllegalArgumentException(
          "transform step '" + step + "': the SQL does not parse: " + firstLine(e.getMessage()), e);
    }
    if (node.getKind() == SqlKind.ORDER_BY) {
      throw new IllegalArgumentException(
          "transform step '"
              + step
              + "': ORDER BY, LIMIT and OFFSET have no meaning for rows loaded into a table;"
              + " leave them out");
    }
    if (!(node instanceof SqlSelect select)) {
      throw new IllegalArgumentException(
          "transform step '"
              + step
              + "' must be one SELECT … FROM input …, but is a "
              + node.getKind().sql);
    }
    Map<String, String> aliases = new LinkedHashMap<>();
    from(step, select.getFrom(), aliases);
    if (!aliases.containsValue(INPUT)) {
      throw new IllegalArgumentException(
          "transform step '"
              + step
              + "' must read the table input (the records), but reads "
              + aliases.values());
    }
    String inputAlias =
        aliases.entrySet().stream()
            .filter(e -> e.getValue().equals(INPUT))
            .map(Map.Entry::getKey)
            .findFirst()
            .orElseThrow();
    boolean aggregates =
        select.isDistinct()
            || (select.getGroup() != null && !select.getGroup().isEmpty())
            || select.getHaving() != null
            || select.getSelectList().stream().anyMatch(SqlQuery::aggregates);
    Window window = null;
    if (select.getGroup() != null) {
      for (SqlNode group : select.getGroup()) {
        Window found = window(step, group);
        if (found != null) {
          window = found;
        }
      }
    }
    List<String> tables = new ArrayList<>();
    tables.add(INPUT);
    aliases.values().stream().filter(t -> !t.equals(INPUT)).distinct().forEach(tables::add);
    String executed =
        aggregates || selectsAllOf(select.getSelectList(), inputAlias)
            ? sql
            : withSourceColumn(sql, select, inputAlias);
    boolean projection =
        !aggregates
            && select.getWhere() == null
            && tables.size() == 1
            && select.getSelectList().stream().allMatch(SqlQuery::isColumn);
    return new SqlQuery(
        sql,
        executed,
        List.copyOf(tables),
        aggregates,
        window,
        projection,
        columnSources(select.getSelectList(), aliases));
  }

  /** The schema the refreshed lookups are registered under in Beam SQL. */
  public static final String LOOKUPS = "sluice_lookups";

  /**
   * How a query joins lookups that are read by key and refreshed ({@code --lookupRefresh}, Beam
   * SQL's seekable tables): the text Beam SQL runs, and the lookups joined by a {@code LEFT JOIN}
   * (a record without a match keeps a row of NULLs).
   */
  public record Refreshing(String executed, java.util.Set<String> outer) implements Serializable {}

  /**
   * This query with {@code refreshed} lookups read by key: each is named in the {@link #LOOKUPS}
   * schema, and each equality of its join condition is written with the record's column first (as
   * Beam SQL's lookup join reads it). Refused, naming the step, unless each such lookup is the
   * right side of an {@code INNER} or {@code LEFT JOIN} whose {@code ON} is equalities between its
   * columns and others, each qualified by its table or alias.
   */
  public Refreshing refreshing(String step, java.util.Set<String> refreshed) {
    SqlSelect select;
    try {
      select =
          (SqlSelect) SqlParser.create(executed, SqlParser.config().withLex(Lex.JAVA)).parseQuery();
    } catch (SqlParseException e) {
      throw new IllegalStateException("cannot parse " + executed + " again", e);
    }
    List<int[]> spans = new ArrayList<>();
    List<String> texts = new ArrayList<>();
    java.util.Set<String> outer = new java.util.LinkedHashSet<>();
    joins(step, select.getFrom(), refreshed, spans, texts, outer);
    // Applied from the end, so that each span's offsets hold.
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < spans.size(); i++) {
      order.add(i);
    }
    order.sort((a, b) -> Integer.compare(spans.get(b)[0], spans.get(a)[0]));
    StringBuilder text = new StringBuilder(executed);
    for (int i : order) {
      text.replace(spans.get(i)[0], spans.get(i)[1], texts.get(i));
    }
    return new Refreshing(text.toString(), java.util.Set.copyOf(outer));
  }

  private void joins(
      String step,
      @Nullable SqlNode from,
      java.util.Set<String> refreshed,
      List<int[]> spans,
      List<String> texts,
      java.util.Set<String> outer) {
    if (!(from instanceof SqlJoin join)) {
      String table = tableOf(from);
      if (table != null && refreshed.contains(table)) {
        throw refused(step, table, "put input first: FROM input i JOIN " + table + " … ON …");
      }
      return;
    }
    joins(step, join.getLeft(), refreshed, spans, texts, outer);
    SqlNode right = join.getRight();
    String table = tableOf(right);
    if (table == null || !refreshed.contains(table)) {
      return;
    }
    String alias =
        right instanceof SqlIdentifier
            ? table
            : ((SqlIdentifier) ((SqlCall) right).operand(1)).getSimple();
    switch (join.getJoinType()) {
      case INNER -> {}
      case LEFT -> outer.add(table);
      default ->
          throw refused(
              step, table, "only JOIN or LEFT JOIN, not " + join.getJoinType().name() + " JOIN");
    }
    if (join.getCondition() == null) {
      throw refused(step, table, "it needs ON <input column> = " + alias + ".<column>");
    }
    List<SqlNode> equalities = new ArrayList<>();
    if (join.getCondition().getKind() == SqlKind.AND) {
      equalities.addAll(((SqlCall) join.getCondition()).getOperandList());
    } else {
      equalities.add(join.getCondition());
    }
    for (SqlNode equality : equalities) {
      if (equality.getKind() != SqlKind.EQUALS
          || !(((SqlCall) equality).operand(0) instanceof SqlIdentifier a)
          || !(((SqlCall) equality).operand(1) instanceof SqlIdentifier b)
          || a.names.size() != 2
          || b.names.size() != 2) {
        throw refused(
            step,
            table,
            "its ON may only be equalities of qualified columns (i.currency = "
                + alias
                + ".currency), joined by AND, but has "
                + equality);
      }
      boolean aIsLookup = a.names.get(0).equals(alias);
      boolean bIsLookup = b.names.get(0).equals(alias);
      if (aIsLookup == bIsLookup) {
        throw refused(
            step,
            table,
            "each equality of its ON must compare one of its columns with another table's, but "
                + equality
                + " does not");
      }
      if (aIsLookup) {
        int[] first = span(a);
        int[] second = span(b);
        String firstText = executed.substring(first[0], first[1]);
        String secondText = executed.substring(second[0], second[1]);
        spans.add(first);
        texts.add(secondText);
        spans.add(second);
        texts.add(firstText);
      }
    }
    SqlIdentifier name = right instanceof SqlIdentifier id ? id : ((SqlCall) right).operand(0);
    spans.add(span(name));
    texts.add(LOOKUPS + "." + table);
  }

  /** The table a FROM item reads (a name, aliased or not), or null. */
  private static @Nullable String tableOf(@Nullable SqlNode node) {
    if (node instanceof SqlIdentifier id) {
      return id.names.get(id.names.size() - 1);
    }
    if (node != null
        && node.getKind() == SqlKind.AS
        && ((SqlCall) node).operand(0) instanceof SqlIdentifier id) {
      return id.names.get(id.names.size() - 1);
    }
    return null;
  }

  /** Where {@code node} is in the executed text: its first offset and one past its last. */
  private int[] span(SqlNode node) {
    SqlParserPos pos = node.getParserPosition();
    return new int[] {
      offset(executed, pos.getLineNum(), pos.getColumnNum()),
      offset(executed, pos.getEndLineNum(), pos.getEndColumnNum()) + 1
    };
  }

  private static IllegalArgumentException refused(String step, String table, String why) {
    return new IllegalArgumentException(
        "transform step '"
            + step
            + "' joins lookup "
            + table
            + ", which --lookupRefresh reads by key as the query joins it: "
            + why);
  }

  /** Whether a SELECT item is a column (or all columns), renamed or not. */
  private static boolean isColumn(SqlNode item) {
    if (item.getKind() == SqlKind.AS) {
      return ((SqlCall) item).operand(0) instanceof SqlIdentifier;
    }
    return item instanceof SqlIdentifier;
  }

  /**
   * Each named output column and the columns its expression reads (by their last name part), in
   * order: the column lineage of the step. A star is left out (its columns are the input's).
   */
  private static Map<String, List<String>> columnSources(
      SqlNodeList items, Map<String, String> aliases) {
    Map<String, List<String>> sources = new LinkedHashMap<>();
    for (SqlNode item : items) {
      SqlNode expression = item;
      String name = null;
      if (item.getKind() == SqlKind.AS) {
        expression = ((SqlCall) item).operand(0);
        name = ((SqlIdentifier) ((SqlCall) item).operand(1)).getSimple();
      } else if (item instanceof SqlIdentifier id && !id.isStar()) {
        name = id.names.get(id.names.size() - 1);
      }
      if (name == null) {
        continue;
      }
      List<String> read = new ArrayList<>();
      identifiers(expression, aliases, read);
      sources.put(name, List.copyOf(read));
    }
    return sources;
  }

  private static void identifiers(
      @Nullable SqlNode node, Map<String, String> aliases, List<String> out) {
    if (node instanceof SqlIdentifier id && !id.isStar()) {
      String table =
          id.names.size() > 1
              ? aliases.getOrDefault(id.names.get(id.names.size() - 2), INPUT)
              : INPUT;
      String column = table + "." + id.names.get(id.names.size() - 1);
      if (!out.contains(column)) {
        out.add(column);
      }
    } else if (node instanceof SqlCall call) {
      for (SqlNode operand : call.getOperandList()) {
        identifiers(operand, aliases, out);
      }
    }
  }

  /** The tables a FROM reads, by alias (a table without alias is its own alias). */
  private static void from(String step, @Nullable SqlNode from, Map<String, String> aliases) {
    if (from == null) {
      throw new IllegalArgumentException("transform step '" + step + "' has no FROM input");
    }
    if (from instanceof SqlJoin join) {
      from(step, join.getLeft(), aliases);
      from(step, join.getRight(), aliases);
    } else if (from instanceof SqlIdentifier id) {
      String table = id.names.get(id.names.size() - 1);
      aliases.put(table, table);
    } else if (from.getKind() == SqlKind.AS
        && ((SqlCall) from).operand(0) instanceof SqlIdentifier id) {
      aliases.put(
          ((SqlIdentifier) ((SqlCall) from).operand(1)).getSimple(),
          id.names.get(id.names.size() - 1));
    } else {
      throw new IllegalArgumentException(
          "transform step '"
              + step
              + "': FROM may name input and lookup tables, joined, but not "
              + from.getKind().sql
              + " (write another step instead of a subquery)");
    }
  }

  private static boolean aggregates(@Nullable SqlNode node) {
    if (node instanceof SqlCall call) {
      if (call.getOperator().isAggregator() && call.getKind() != SqlKind.OVER) {
        return true;
      }
      return call.getOperandList().stream().anyMatch(SqlQuery::aggregates);
    }
    return false;
  }

  private static @Nullable Window window(String step, SqlNode group) {
    if (!(group instanceof SqlBasicCall call)) {
      return null;
    }
    // Calcite names its group window functions $TUMBLE, $HOP and $SESSION.
    String kind = call.getOperator().getName().toUpperCase(Locale.ROOT).replace("$", "");
    if (!List.of("TUMBLE", "HOP", "SESSION").contains(kind)) {
      return null;
    }
    List<SqlNode> operands = call.getOperandList();
    if (!(operands.get(0) instanceof SqlIdentifier field)) {
      throw new IllegalArgumentException(
          "transform step '" + step + "': " + kind + " must window a timestamp column");
    }
    List<Long> intervals = new ArrayList<>();
    for (SqlNode operand : operands.subList(1, operands.size())) {
      if (operand instanceof SqlIntervalLiteral literal) {
        intervals.add(
            SqlParserUtil.intervalToMillis(
                literal.getValueAs(SqlIntervalLiteral.IntervalValue.class)));
      } else if (!(operand instanceof SqlLiteral)) {
        throw new IllegalArgumentException(
            "transform step '" + step + "': " + kind + " takes INTERVAL literals");
      }
    }
    String name = field.names.get(field.names.size() - 1);
    return switch (kind) {
      case "TUMBLE" -> new Window(kind, name, intervals.get(0), 0);
      case "HOP" -> new Window(kind, name, intervals.get(1), intervals.get(0));
      default -> new Window(kind, name, intervals.get(0), 0);
    };
  }

  private static boolean selectsAllOf(SqlNodeList items, String inputAlias) {
    for (SqlNode item : items) {
      if (item instanceof SqlIdentifier id
          && id.isStar()
          && (id.names.size() == 1 || id.names.get(0).equals(inputAlias))) {
        return true;
      }
    }
    return false;
  }

  /** {@code sql} with the hidden source column first in its SELECT list. */
  private static String withSourceColumn(String sql, SqlSelect select, String inputAlias) {
    SqlParserPos pos = select.getParserPosition();
    int offset = offset(sql, pos.getLineNum(), pos.getColumnNum());
    if (!sql.regionMatches(true, offset, "SELECT", 0, 6)) {
      throw new IllegalStateException("cannot find SELECT at " + pos + " of " + sql);
    }
    int after = offset + "SELECT".length();
    return sql.substring(0, after)
        + " `"
        + inputAlias
        + "`.`"
        + SqlRows.SOURCE
        + "`,"
        + sql.substring(after);
  }

  private static int offset(String text, int line, int column) {
    int offset = 0;
    for (int l = 1; l < line; l++) {
      offset = text.indexOf('\n', offset) + 1;
    }
    return offset + column - 1;
  }

  private static String firstLine(String message) {
    int newline = message == null ? -1 : message.indexOf('\n');
    return newline < 0 ? String.valueOf(message) : message.substring(0, newline);
  }
}
