"""Figures for the chapters: a live view of training and rows of images."""
import time

import numpy as np
from matplotlib import pyplot as plt


def _in_notebook():
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return get_ipython() is not None


class Animator:
    """Loss curves and the current image, redrawn in the notebook while training runs.

    The title doubles as the progress indicator: step, seconds per step, time left.
    """

    def __init__(self, num_steps, legend=('content', 'style', 'TV'), figsize=(10, 3.2)):
        self.num_steps, self.legend = num_steps, legend
        self.steps, self.losses, self.frames = [], [], []
        self.start = time.time()
        self.fig, (self.ax_loss, self.ax_img) = plt.subplots(
            1, 2, figsize=figsize, gridspec_kw={'width_ratios': [1.1, 1]})
        self.live = _in_notebook()
        if not self.live:
            plt.close(self.fig)  # outside a notebook keep the numbers, draw nothing

    def add(self, step, losses, image=None):
        self.steps.append(step)
        self.losses.append([float(v) for v in losses])
        if image is not None:
            self.frames.append((step, image))
        if self.live:
            from IPython import display
            self._draw()
            display.display(self.fig)
            display.clear_output(wait=True)

    def progress(self):
        step = self.steps[-1]
        per_step = (time.time() - self.start) / max(step, 1)
        left = per_step * (self.num_steps - step)
        return f'step {step}/{self.num_steps}, {per_step:.2f} s/step, {left:.0f} s left'

    def _draw(self):
        self.ax_loss.cla()
        for i, name in enumerate(self.legend):
            self.ax_loss.semilogy(self.steps, [ls[i] for ls in self.losses], label=name)
        self.ax_loss.set_xlim(0, self.num_steps)
        self.ax_loss.set_xlabel('step')
        self.ax_loss.set_ylabel('weighted loss')
        self.ax_loss.legend(loc='upper right')
        self.ax_loss.set_title(self.progress(), fontsize=9)
        if self.frames:
            self.ax_img.cla()
            self.ax_img.imshow(self.frames[-1][1])
            self.ax_img.set_title(f'image at step {self.frames[-1][0]}', fontsize=9)
            self.ax_img.axis('off')


def show_images(images, titles=None, scale=3.0):
    """Show PIL images (or HxWx3 arrays) in a row, each ``scale`` inches high."""
    images = [np.asarray(im) for im in images]
    widths = [im.shape[1] / im.shape[0] for im in images]
    fig, axes = plt.subplots(1, len(images), figsize=(scale * sum(widths), scale),
                             gridspec_kw={'width_ratios': widths}, squeeze=False)
    for i, (ax, im) in enumerate(zip(axes[0], images)):
        ax.imshow(im)
        ax.axis('off')
        if titles:
            ax.set_title(titles[i], fontsize=10)
    fig.tight_layout()
    return fig
