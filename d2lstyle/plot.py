"""Figures for the chapters: a live view of training, rows of images, clips side by side,
and chapter 1's figure of the method."""
import base64
import io
import time

import numpy as np
from matplotlib import patches
from matplotlib import pyplot as plt


def _in_notebook():
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return get_ipython() is not None


def describe(fig):
    """A figure in words, for the text that stands in for it (a page's alt text): its label
    where the code gave it one (``fig.set_label``), else its title and each panel's title or
    what its axes show; None for a figure with no words."""
    if fig.get_label():
        return fig.get_label()
    parts = [fig.get_suptitle()] if fig.get_suptitle() else []
    for ax in fig.axes:
        title = ax.get_title() or ax.get_title('left')
        axes = ' against '.join(label for label in (ax.get_ylabel(), ax.get_xlabel()) if label)
        part = f'{title} ({axes})' if title and axes else title or axes
        if part:
            parts.append(' '.join(part.split()))
    return 'Figure: ' + '; '.join(parts) if parts else None


def describe_figures(*_):
    """Give every figure the notebook shows its description (``describe``) as the metadata
    ``alt`` of its PNG, which the course site's pages write as the image's alt text. Run
    before every cell, since the inline backend registers its own drawing of figures late
    (at the first figure) and again at each ``%matplotlib inline``."""
    from IPython import get_ipython
    from matplotlib.figure import Figure
    png = get_ipython().display_formatter.formatters['image/png']
    try:
        draw = png.lookup_by_type(Figure)
    except KeyError:  # the inline backend is not active (yet)
        return
    if getattr(draw, 'describes', False):
        return

    def drawn(fig):
        data, words = draw(fig), describe(fig)
        return (data, {'alt': words}) if data and words else data
    drawn.describes = True
    png.for_type(Figure, drawn)


if _in_notebook():
    describe_figures()
    from IPython import get_ipython
    get_ipython().events.register('pre_run_cell', describe_figures)


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
        self.fig.set_label(f'Figure: the {", ".join(legend)} losses against the step, and the '
                           'image as it was at the last step shown')  # its words (describe)
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


def show_clip(clips, titles, fps, width=240):
    """Clips (lists of HxWx3 uint8 frames, equally long) side by side, each frame resized to
    ``width`` pixels wide and labelled with its clip's title, as one animated WebP that plays in the
    notebook, on the site and in the slides (a lossless PNG of noisy strokes is ten times
    larger)."""
    from IPython.display import HTML
    from PIL import Image, ImageDraw
    frames = []
    for row in zip(*clips):
        parts = [Image.fromarray(frame) for frame in row]
        parts = [im.resize((width, round(im.height * width / im.width)),
                           Image.Resampling.LANCZOS) for im in parts]
        sheet = Image.new('RGB', (sum(im.width for im in parts) + 8 * (len(parts) - 1),
                                  parts[0].height + 18), 'white')
        x, draw = 0, ImageDraw.Draw(sheet)
        for im, title in zip(parts, titles):
            sheet.paste(im, (x, 18))
            draw.text((x + 2, 3), title, fill='black')
            x += im.width + 8
        frames.append(sheet)
    data = io.BytesIO()
    frames[0].save(data, format='WEBP', save_all=True, append_images=frames[1:], quality=80,
                   duration=round(1000 / fps), loop=0)
    alt = 'clips side by side: ' + ', '.join(titles)
    return HTML(f'<img class="d2l-clip" alt="{alt}" '
                f'src="data:image/webp;base64,{base64.b64encode(data.getvalue()).decode()}">')


# ---- chapter 1's figure of the method ----------------------------------------------------

# VGG-19 up to conv5_1, the deepest layer chapter 1 uses: (block, convolutions, channels)
VGG_BLOCKS = [(1, 2, 64), (2, 2, 128), (3, 4, 256), (4, 4, 512), (5, 1, 512)]


def draw_method(content_img, style_img, synth_img, content_name='conv4_4',
                style_names=('conv1_1', 'conv2_1', 'conv3_1', 'conv4_1', 'conv5_1')):
    """The method as a diagram: three images, three copies of VGG-19, the losses."""
    fig, ax = plt.subplots(figsize=(12, 7))
    fig.set_label(f'Figure: the method. The content, synthesized and style images each pass '
                  f'through VGG-19; the content loss compares the features of {content_name}, '
                  f'the style loss the Gram matrices of {", ".join(style_names)}, and the '
                  'gradient flows back to the synthesized image.')  # its words (describe)
    ax.set_xlim(0, 12.6)
    ax.set_ylim(-0.5, 6.9)
    ax.axis('off')
    x_net = 3.5  # where the network starts
    rows = {'content': 5.2, 'synth': 2.9, 'style': 0.6}  # y of each copy of the network
    arrow = dict(arrowstyle='-|>', color='black', lw=1.5, mutation_scale=16)
    grad = dict(arrowstyle='-|>', color='tab:red', lw=2.5, ls='--', mutation_scale=22)
    # the three images, at the left
    for key, img, label in [('content', content_img, 'content image (photo)'),
                            ('synth', synth_img, 'synthesized image x\n(starts as the photo)'),
                            ('style', style_img, 'style image (painting)')]:
        y = rows[key]
        ax.imshow(img, extent=(0.1, 1.9, y - 0.6, y + 0.6), aspect='auto', zorder=2)
        ax.text(1.0, y - 0.72 if key == 'style' else y + 0.7, label, ha='center',
                va='top' if key == 'style' else 'bottom', fontsize=12,
                color='tab:red' if key == 'synth' else 'black')
        ax.annotate('', (x_net, y), (1.95, y), arrowprops=arrow)
    ax.add_patch(patches.Rectangle((0.05, rows['synth'] - 0.65), 1.9, 1.3, fill=False,
                                   ec='tab:red', lw=3, zorder=3))
    # one VGG-19 per image, the same frozen weights, drawn as its convolutions in blocks
    taps = {}
    for key, y in rows.items():
        x = x_net
        for block, n_conv, channels in VGG_BLOCKS:
            h = 1.0 - 0.12 * (block - 1)   # the feature maps shrink block by block
            x0 = x
            for k in range(1, n_conv + 1):
                ax.add_patch(patches.Rectangle((x, y - h / 2), 0.3, h, fc='#cfe0f3',
                                               ec='#33557a', lw=1))
                taps[key, f'conv{block}_{k}'] = (x + 0.15, y)
                x += 0.36
            if key == 'content':
                ax.text((x0 + x - 0.06) / 2, y + 0.62, f'block {block}\n{channels} ch',
                        ha='center', va='bottom', fontsize=11)
            x += 0.3
    ax.text(6.4, 6.45, 'VGG-19 up to conv5_1: the same fixed weights in all three rows',
            ha='center', va='bottom', fontsize=12, color='#33557a')
    # content loss between the content and the synthesized rows
    def box(xy, text, color, w=1.0, h=0.62):
        ax.add_patch(patches.FancyBboxPatch((xy[0] - w / 2, xy[1] - h / 2), w, h,
                                            boxstyle='round,pad=0.04', fc=color, ec='black',
                                            zorder=4))
        ax.text(*xy, text, ha='center', va='center', fontsize=11, zorder=5)
    x_c = taps['content', content_name][0]
    y_c = (rows['content'] + rows['synth']) / 2
    box((x_c, y_c), 'content loss\n' + content_name, '#ffe8a8', w=1.3)
    ax.annotate('', (x_c, y_c + 0.35), (x_c, rows['content'] - 0.25), arrowprops=arrow)
    ax.annotate('', (x_c, y_c - 0.35), (x_c, rows['synth'] + 0.25), arrowprops=arrow)
    # style losses between the synthesized and the style rows, on Gram matrices
    y_s = (rows['synth'] + rows['style']) / 2
    for name in style_names:
        x_s = taps['synth', name][0]
        box((x_s, y_s), 'Gram\n' + name, '#d6f0c8', w=0.92)
        ax.annotate('', (x_s, y_s + 0.35), (x_s, rows['synth'] - 0.2), arrowprops=arrow)
        ax.annotate('', (x_s, y_s - 0.35), (x_s, rows['style'] + 0.2), arrowprops=arrow)
    ax.text(taps['synth', 'conv5_1'][0] + 0.6, y_s, 'style\nlosses', ha='left', va='center',
            fontsize=12)
    # TV loss on the pixels of the synthesized image
    x_tv = 2.4
    box((x_tv, y_s), 'TV loss\n(pixels)', '#f3d0e6', w=0.95)
    ax.annotate('', (x_tv, y_s + 0.35), (1.6, rows['synth'] - 0.62), arrowprops=arrow)
    # the total loss, and its gradient back to the image only
    L = (11.9, rows['synth'])
    box(L, 'total\nloss L', '#ffffff', w=1.2, h=0.8)
    ax.annotate('', (L[0] - 0.3, L[1] + 0.37), (x_c + 0.66, y_c), arrowprops=dict(
        arrow, connectionstyle='arc3,rad=-0.15'))
    ax.annotate('', (L[0] - 0.3, L[1] - 0.37), (taps['synth', 'conv5_1'][0] + 1.4, y_s),
                arrowprops=arrow)
    ax.plot([x_tv, x_tv, L[0]], [y_s - 0.35, -0.35, -0.35], color='black', lw=1.5)
    ax.annotate('', (L[0], L[1] - 0.37), (L[0], -0.36), arrowprops=arrow)
    ax.text(6.4, -0.3, 'TV loss', ha='center', va='bottom', fontsize=11)
    y_g = rows['synth'] + 0.62
    ax.annotate('', (1.96, y_g), (L[0] - 0.62, y_g), arrowprops=grad)
    ax.text(4.9, y_g + 0.08, 'gradient ∂L/∂x: only the pixels change', ha='center',
            va='bottom', fontsize=12, color='tab:red',
            bbox=dict(fc='white', ec='none', pad=1))
    return fig
