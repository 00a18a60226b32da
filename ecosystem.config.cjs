// PM2 process file: `pm2 start ecosystem.config.cjs`. Settings kept from the seed.
module.exports = {
  apps: [
    {
      name: 'larder',
      script: 'dist/src/cli.js',
      args: 'serve',
      instances: 1, // one recorder per SQLite file: the store refuses a second writer
      exec_mode: 'fork',
      autorestart: true,
      max_memory_restart: '200M',
      kill_timeout: 10000, // SIGTERM flushes the batch in flight before exit
      env: {
        NODE_ENV: 'production',
        MONITORING_DB: 'sqlite',
        SQLITE_DB_PATH: 'data/monitoring.db',
        METRICS_RETENTION_DAYS: '30',
        LARDER_LISTEN: '0.0.0.0:9464',
        // PM2 starts the script with node, past its shebang: the same malloc setting (src/cli.ts).
        MALLOC_TRIM_THRESHOLD_: '131072',
      },
    },
  ],
};
