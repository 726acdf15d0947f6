-- Rolls back V11.
DROP TABLE IF EXISTS sluice_workflow_alerts;
DROP TABLE IF EXISTS sluice_workflow_runs;
