DROP TABLE sluice_dead_letters;
