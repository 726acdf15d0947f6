"""Checks a DAG file `sluice dag` wrote, with Python's own parser (Airflow is not installed here).

Prints, as JSON: the imports, the DAG's schedule and on_failure_callback, each task's operator and
keyword arguments (literal values), and the dependency edges. Exits 1 naming what is wrong: a
syntax error, an unknown operator, or a keyword argument the operator's signature does not take.
"""
import ast
import json
import sys

# The operators' keyword arguments (Airflow's signatures), and BaseOperator's that the DAG uses.
BASE = {"task_id", "retries", "retry_delay", "retry_exponential_backoff", "execution_timeout",
        "sla", "on_failure_callback", "max_retry_delay", "depends_on_past"}
SIGNATURES = {
    "BeamRunJavaPipelineOperator": {"jar", "runner", "job_class", "default_pipeline_options",
                                    "pipeline_options", "gcp_conn_id", "dataflow_config"},
    "DataflowStartFlexTemplateOperator": {"body", "location", "project_id", "gcp_conn_id",
                                          "drain_pipeline", "cancel_timeout",
                                          "wait_until_finished", "impersonation_chain",
                                          "deferrable", "append_job_name",
                                          "expected_terminal_state", "poll_sleep"},
}
REQUIRED = {
    "BeamRunJavaPipelineOperator": {"task_id", "jar"},
    "DataflowStartFlexTemplateOperator": {"task_id", "body", "location"},
}


def fail(message):
    print(message)
    sys.exit(1)


def literal(node):
    try:
        return ast.literal_eval(node)
    except ValueError:
        return ast.unparse(node)


path = sys.argv[1]
source = open(path, encoding="utf-8").read()
try:
    tree = ast.parse(source, filename=path)
except SyntaxError as e:
    fail("syntax error: %s" % e)

imports = []
for node in ast.walk(tree):
    if isinstance(node, ast.ImportFrom) and node.module.startswith("airflow"):
        imports.extend(node.module + "." + alias.name for alias in node.names)

schedule = None
callback = False
variables = {}
operators = {}
order = []
for node in ast.walk(tree):
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "DAG":
        for kw in node.keywords:
            if kw.arg == "schedule":
                schedule = literal(kw.value)
            if kw.arg == "default_args":
                callback = "on_failure_callback" in literal(kw.value)
    if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
        name = getattr(node.value.func, "id", None)
        if name in ("DAG",) or name is None:
            continue
        if name not in SIGNATURES:
            fail("unknown operator %s" % name)
        kwargs = {kw.arg: literal(kw.value) for kw in node.value.keywords}
        unknown = set(kwargs) - SIGNATURES[name] - BASE
        if unknown:
            fail("%s does not take %s" % (name, sorted(unknown)))
        missing = REQUIRED[name] - set(kwargs)
        if missing:
            fail("%s needs %s" % (name, sorted(missing)))
        task_id = kwargs["task_id"]
        variables[node.targets[0].id] = task_id
        kwargs["class"] = name
        operators[task_id] = kwargs
        order.append(task_id)

edges = []
for node in ast.walk(tree):
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.RShift):
        edges.append([variables[node.left.id], variables[node.right.id]])

print(json.dumps({
    "imports": imports,
    "schedule": schedule,
    "on_failure_callback": callback,
    "tasks": order,
    "operators": operators,
    "edges": edges,
}, default=str))
