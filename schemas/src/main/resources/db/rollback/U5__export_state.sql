DROP TABLE sluice_export_state;
