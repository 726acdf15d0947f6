DROP INDEX sluice_dead_letters_once;
