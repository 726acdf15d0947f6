package dev.sluice.io.metrics;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;

import org.junit.jupiter.api.Test;

/** Flink's REST API lists Beam metrics with underscores for dots; Sluice's names come back. */
class FlinkRestMetricsTest {
  @Test
  void turnsListedNamesBackIntoSluicesNames() {
    assertThat(
        FlinkRestMetrics.flinkName("kafka-to-jdbc.dead_lettered.reason.parse"),
        is("kafka-to-jdbc_dead_lettered_reason_parse"));
    assertThat(FlinkRestMetrics.beamName("read"), is("read"));
    assertThat(FlinkRestMetrics.beamName("filtered"), is("filtered"));
    assertThat(FlinkRestMetrics.beamName("filtered_tombstone"), is("filtered.tombstone"));
    assertThat(
        FlinkRestMetrics.beamName("dead_lettered_reason_stale_version"),
        is("dead_lettered.reason.stale_version"));
    assertThat(
        FlinkRestMetrics.beamName("dead_lettered_step_Parse"), is("dead_lettered.step.Parse"));
    assertThat(
        FlinkRestMetrics.beamName("rule_amount_positive_evaluated"),
        is("rule.amount_positive.evaluated"));
    assertThat(
        FlinkRestMetrics.beamName("rule_amount_positive_failed"),
        is("rule.amount_positive.failed"));
    assertThat(
        FlinkRestMetrics.beamName("quality_window_rows_min_failed_windows"),
        is("quality.window.rows_min.failed_windows"));
    assertThat(
        FlinkRestMetrics.beamName("quality_window_rows_min_windows"),
        is("quality.window.rows_min.windows"));
    assertThat(
        FlinkRestMetrics.beamName("quality_window_rows_min_observed"),
        is("quality.window.rows_min.observed"));
    assertThat(FlinkRestMetrics.beamName("replay_selected"), is("replay.selected"));
    assertThat(FlinkRestMetrics.beamName("dataset_rows"), is("dataset_rows"));
  }
}
