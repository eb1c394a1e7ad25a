'use strict'
// Run by promises.test.cjs against its simulator (options in CTT_TEST_OPTIONS): shows what keeps
// a process alive. Mode `pending`: one slow call and nothing else. Mode `idle`: calls that all
// finished. Mode `worker`: workers ended with a call in flight, and workers that finish theirs.
const { Worker } = require('node:worker_threads')
const { Client } = require('ctt-onboard')

const { options, resellerId } = JSON.parse(process.env.CTT_TEST_OPTIONS)
const mode = process.argv[2]

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const { Client } = require(workerData.pkg)
const client = new Client(workerData.options)
const call = client.pbxTypes(workerData.resellerId)
parentPort.postMessage('started')
call.then((types) => parentPort.postMessage(types.length))
`

function runWorker(terminateEarly) {
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { pkg: require.resolve('ctt-onboard'), options, resellerId },
  })
  return new Promise((resolve, reject) => {
    worker.on('error', reject)
    worker.on('message', (message) => {
      if (message === 'started' && terminateEarly) worker.terminate().then(() => resolve('terminated'))
      else if (message !== 'started') worker.terminate().then(() => resolve(message))
    })
  })
}

async function main() {
  const client = new Client(options)
  if (mode === 'pending') {
    // No await, no timer: only the call in flight can keep the process alive until it prints.
    client.pbxTypes(resellerId).then((types) => process.stdout.write(`resolved ${types.length}\n`))
    return
  }
  if (mode === 'idle') {
    await client.resellerId()
    await client.sbcGateways(resellerId)
    await Promise.all([client.pbxTypes(resellerId), client.enterprises(resellerId)])
    process.stdout.write('idle\n')
    return
  }
  if (mode === 'worker') {
    const ended = await Promise.all([runWorker(true), runWorker(true), runWorker(true)])
    // Let the ended workers' calls finish on the runtime after their environments are gone.
    await new Promise((resolve) => setTimeout(resolve, 700))
    const finished = await Promise.all([runWorker(false), runWorker(false)])
    const types = await client.pbxTypes(resellerId)
    process.stdout.write(`${ended.join(',')} ${finished.join(',')} ${types.length}\n`)
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
