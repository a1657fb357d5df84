/*
 * worker.h: the worker process: its loop, signals and stopping.
 */
#ifndef PORTICO_WORKER_H
#define PORTICO_WORKER_H

#include "conf.h"

#endif
