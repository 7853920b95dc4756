"""The tutorial's web app: what the image would run on a real Docker host."""

import os

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello from a container!\n"


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", "8000")))
