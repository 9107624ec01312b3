/**
 * The two programs of the InvokeAI stand-in repository, in Python's standard library only (the
 * lab host's python3 stands for the env's python). Each appends a line to
 * ~/.cache/invokeai-standin/events.log, so a test can count preload runs and service starts.
 */

/**
 * scripts/preload_models.py: as v2.0's, it fills the Hugging Face cache (BERT and CLIP
 * tokenizers) and drops a face-restoration weight under the repo, skipping what is present; the
 * bytes are derived from the names, so a re-run writes nothing new.
 */
export const PRELOAD_MODELS = `#!/usr/bin/env python
# InvokeAI stand-in (statecraft e2e): what v2.0's preload_models.py leaves on disk, offline.
import hashlib, os, sys, time

home = os.path.expanduser('~')
hf = os.environ.get('HF_HOME') or os.path.join(home, '.cache', 'huggingface')
files = [
    os.path.join(hf, 'transformers', 'bert-base-uncased', 'vocab.txt'),
    os.path.join(hf, 'transformers', 'openai--clip-vit-large-patch14', 'tokenizer.json'),
    os.path.join('models', 'codeformer', 'codeformer.pth'),
]

def log(event):
    d = os.path.join(home, '.cache', 'invokeai-standin')
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'events.log'), 'a') as f:
        f.write('%s %s cwd=%s prefix=%s\\n' % (time.strftime('%Y-%m-%dT%H:%M:%S'), event, os.getcwd(), os.environ.get('CONDA_PREFIX', '')))

if not os.path.isfile(os.path.join('scripts', 'invoke.py')):
    sys.exit('preload_models.py must be run from the InvokeAI root directory (scripts/invoke.py not found in %s)' % os.getcwd())
log('preload')
print('Loading Bert tokenizer (ignore deprecation errors)...', flush=True)
for path in files:
    if os.path.exists(path):
        print('  %s: already downloaded, skipping' % path, flush=True)
        continue
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + '.part', 'wb') as f:
        f.write(hashlib.sha256(os.path.basename(path).encode()).hexdigest().encode() * 64)
    os.replace(path + '.part', path)
    print('  %s: downloaded' % path, flush=True)
print('...success', flush=True)
`

/**
 * scripts/invoke.py: v2.0's flags (argparse rejects others, as the real one does); it loads the
 * model named in configs/models.yaml the way v2.0 does — the weights must exist, and
 * model.sha256 beside them is trusted while its mtime >= the checkpoint's, else the checkpoint
 * is hashed and the file written — then serves the web UI's liveness URL. /standin/info tells
 * a test how it was started.
 */
export const INVOKE = `#!/usr/bin/env python
# InvokeAI stand-in (statecraft e2e): v2.0's web server start-up, offline, standard library only.
import argparse, hashlib, json, os, re, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

p = argparse.ArgumentParser(description='InvokeAI stand-in')
p.add_argument('--web', action='store_true')
p.add_argument('--host', default='127.0.0.1')
p.add_argument('--port', type=int, default=9090)
p.add_argument('-o', '--outdir', default='outputs/img-samples')
p.add_argument('-A', '--sampler', default='k_lms', choices=['ddim', 'k_dpm_2_a', 'k_dpm_2', 'k_euler_a', 'k_euler', 'k_heun', 'k_lms', 'plms'])
p.add_argument('-F', '--full_precision', action='store_true')
p.add_argument('--config', default='configs/models.yaml')
p.add_argument('--model', default='stable-diffusion-1.4')
args = p.parse_args()
home = os.path.expanduser('~')

def log(event):
    d = os.path.join(home, '.cache', 'invokeai-standin')
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'events.log'), 'a') as f:
        f.write('%s %s pid=%d argv=%s\\n' % (time.strftime('%Y-%m-%dT%H:%M:%S'), event, os.getpid(), ' '.join(sys.argv[1:])))

if not args.web:
    sys.exit('invoke.py stand-in: only --web is served (the interactive prompt needs a terminal)')
print('* Initializing, be patient...', flush=True)
weights = None
with open(args.config) as f:
    current = None
    for line in f:
        m = re.match(r'^([A-Za-z0-9._-]+):\\s*$', line)
        if m:
            current = m.group(1)
        m = re.match(r'^\\s+weights:\\s*(\\S+)', line)
        if m and current == args.model:
            weights = m.group(1)
if weights is None:
    sys.exit('** "%s" is not a known model name; check %s' % (args.model, args.config))
if not os.path.isfile(weights):
    log('no-model')
    sys.exit('** An error occurred while attempting to initialize the model: "%s" not found' % weights)
hashfile = os.path.splitext(weights)[0] + '.sha256'
if os.path.exists(hashfile) and os.path.getmtime(hashfile) >= os.path.getmtime(weights):
    with open(hashfile) as f:
        sha, hashed = f.read().strip(), False
else:
    print('>> Calculating sha256 hash of weights file', flush=True)
    h = hashlib.sha256()
    with open(weights, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    sha, hashed = h.hexdigest(), True
    with open(hashfile, 'w') as f:
        f.write(sha)
print('>> Loading %s from %s' % (args.model, weights), flush=True)
print('>> sha256 = %s' % sha, flush=True)
os.makedirs(args.outdir, exist_ok=True)
info = {'host': args.host, 'port': args.port, 'outdir': os.path.abspath(args.outdir), 'sampler': args.sampler,
        'full_precision': args.full_precision, 'model': args.model, 'sha256': sha, 'hashed': hashed, 'pid': os.getpid(),
        'prefix': os.environ.get('CONDA_PREFIX', ''), 'cwd': os.getcwd()}

class Handler(BaseHTTPRequestHandler):
    def send(self, code, body, kind):
        data = body.encode()
        self.send_response(code)
        self.send_header('Content-Type', kind)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == '/flaskwebgui-keep-server-alive':
            # As Flask's jsonify prints it outside debug mode: compact, with a trailing newline.
            return self.send(200, json.dumps({'message': 'Server Running'}, separators=(',', ':')) + '\\n', 'application/json')
        if self.path == '/standin/info':
            return self.send(200, json.dumps(info), 'application/json')
        if self.path == '/':
            return self.send(200, '<!doctype html><title>InvokeAI - A Stable Diffusion Toolkit</title>', 'text/html')
        self.send(404, 'not found', 'text/plain')

    def log_message(self, fmt, *a):
        pass

server = ThreadingHTTPServer((args.host, args.port), Handler)
log('serve')
print('\\n* Initialization done! Awaiting your command...', flush=True)
print('Point your browser at http://%s:%d' % (args.host, args.port), flush=True)
server.serve_forever()
`
