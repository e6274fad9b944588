DROP TABLE rectifications;
DROP TABLE subjects;
