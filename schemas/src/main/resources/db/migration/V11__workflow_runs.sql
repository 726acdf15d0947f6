-- Workflow runs (sluice schedule, sluice workflow run): one row per attempt of a job for a data
-- interval. At most one attempt of a job and interval succeeds (the partial unique index), whatever
-- schedulers or backfills race for it; SLA misses are alerted once per job and interval.
CREATE TABLE sluice_workflow_runs (
    id             bigserial   PRIMARY KEY,
    workflow       text        NOT NULL,
    job            text        NOT NULL,
    pipeline       text        NOT NULL,
    interval_start timestamptz NOT NULL,
    interval_end   timestamptz NOT NULL,
    attempt        integer     NOT NULL,
    state          text        NOT NULL CHECK (state IN ('running', 'succeeded', 'failed')),
    trigger        text        NOT NULL,
    instance       text        NOT NULL,
    run_id         uuid        NOT NULL,
    started_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    exit_code      integer,
    reason         text
);
CREATE UNIQUE INDEX sluice_workflow_runs_once
    ON sluice_workflow_runs (workflow, job, interval_start) WHERE state = 'succeeded';
CREATE INDEX sluice_workflow_runs_by_job ON sluice_workflow_runs (workflow, job, interval_start);
CREATE TABLE sluice_workflow_alerts (
    workflow       text        NOT NULL,
    job            text        NOT NULL,
    interval_start timestamptz NOT NULL,
    kind           text        NOT NULL,
    sent_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workflow, job, interval_start, kind)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON sluice_workflow_runs, sluice_workflow_alerts TO sluice_loader;
GRANT SELECT ON sluice_workflow_runs, sluice_workflow_alerts TO sluice_reader;
