export * from './currency';
export * from './amount';
export * from './allocate';
export * from './fees';
