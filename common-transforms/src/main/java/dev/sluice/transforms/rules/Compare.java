package dev.sluice.transforms.rules;

import dev.sluice.transforms.core.AvroTypes;
import java.math.BigDecimal;
import java.util.List;
import java.util.Set;
import javax.annotation.Nullable;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;

/**
 * {@code compare}: two number, decimal or timestamp fields of a record compare by {@code op}
 * ({@code <, <=, >, >=, ==, !=}); a null side passes, NaN and infinities fail.
 */
public record Compare(String left, Schema leftType, String op, String right, Schema rightType)
    implements RecordRule.Check {
  private static final Set<String> OPS = Set.of("<", "<=", ">", ">=", "==", "!=");

  /** Reads {@code {rule: compare, left: updated_at, op: '>=', right: created_at}}. */
  public static final class Kind implements RecordRuleKind {
    @Override
    public String name() {
      return "compare";
    }

    @Override
    public Set<String> keys() {
      return Set.of("left", "op", "right");
    }

    @Override
    public RecordRule.Check parse(RuleSpec spec) {
      String left = spec.comparableField("left");
      String right = spec.comparableField("right");
      String op = spec.required("op");
      if (!OPS.contains(op)) {
        throw spec.error("op", "op must be one of <, <=, >, >=, ==, !=, but was '" + op + "'");
      }
      return new Compare(left, spec.typeOf(left), op, right, spec.typeOf(right));
    }
  }

  @Override
  public String subject() {
    return left + op + right;
  }

  @Override
  public @Nullable String failure(GenericRecord record) {
    for (String side : List.of(left, right)) {
      if (RecordRule.notFinite(record.get(side))) {
        return side + " = " + record.get(side) + " is not a finite number";
      }
    }
    BigDecimal a = RecordRule.number(leftType, record.get(left));
    BigDecimal b = RecordRule.number(rightType, record.get(right));
    if (a == null || b == null) {
      return null;
    }
    int c = a.compareTo(b);
    boolean ok =
        switch (op) {
          case "<" -> c < 0;
          case "<=" -> c <= 0;
          case ">" -> c > 0;
          case ">=" -> c >= 0;
          case "==" -> c == 0;
          default -> c != 0;
        };
    return ok
        ? null
        : left
            + " ("
            + AvroTypes.text(a)
            + ") "
            + op
            + " "
            + right
            + " ("
            + AvroTypes.text(b)
            + ") is false";
  }
}
