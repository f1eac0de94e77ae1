// Capacity of the connection table (the original's -m: default 4096, at most 1,048,576).
export const MAP_SIZE_DEFAULT = 262144;
export const MAP_SIZE_MAX = 1048576;
