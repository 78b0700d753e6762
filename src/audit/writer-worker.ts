/**
 * The audit writer on its own thread (the default, `audit.writer: thread`). SQLite in Node is
 * synchronous and a durable commit waits for fsync; doing that here keeps the gateway's event
 * loop free.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runWriter, type WriterInit } from './writer.ts';

if (parentPort === null) throw new Error('writer-worker.ts must run as a worker thread');
runWriter(parentPort, workerData as WriterInit);
